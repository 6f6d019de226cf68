// The contract of the pure policy core. Everything here is plain data: no classes, no I/O.
// The shell (worker, `stampede check`, tests) builds a CsrRequest and Facts, then calls decide().

/** One attribute of a subject RDN, as encoded (order preserved). */
export interface RdnAttribute {
  /** Dotted OID, e.g. 2.5.4.3 for CN. */
  readonly oid: string;
  /** The ASN.1 universal tag of the value: 12 UTF8String, 19 PrintableString, others are reported as seen. */
  readonly tag: number;
  /** Decoded text for string types; lowercase hex of the content octets for anything else. */
  readonly value: string;
}

/** A RelativeDistinguishedName: a SET of attributes (usually one). */
export type Rdn = readonly RdnAttribute[];

export type GeneralNameKind =
  | 'otherName'
  | 'email'
  | 'dns'
  | 'x400Address'
  | 'directoryName'
  | 'ediPartyName'
  | 'uri'
  | 'ip'
  | 'registeredId'
  | 'unknown';

/** One subjectAltName entry. Unknown kinds are kept so that policy can deny them (fail closed). */
export interface GeneralName {
  readonly kind: GeneralNameKind;
  /** The context-specific tag number, 0..8 for known kinds. */
  readonly tag: number;
  /**
   * dns/email/uri: the IA5String exactly as encoded (not normalised).
   * ip: the address in canonical text form (IPv4 dotted quad, or compressed lowercase IPv6; an
   *     IPv4-mapped IPv6 address is NOT folded here, the checks fold it) or `invalid:<hex>` when
   *     the octet string is neither 4 nor 16 bytes long.
   * others: lowercase hex of the content octets.
   */
  readonly value: string;
}

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING content. */
  readonly value: Uint8Array;
}

export type PublicKey =
  | {
      readonly algorithm: 'ecdsa';
      readonly curve: 'P-256' | 'P-384' | 'P-521';
      readonly bits: number;
    }
  | { readonly algorithm: 'ecdsa-unsupported-curve'; readonly curveOid: string }
  | { readonly algorithm: 'rsa'; readonly bits: number; readonly exponent: bigint }
  | { readonly algorithm: 'ed25519'; readonly bits: 256 }
  | { readonly algorithm: 'unknown'; readonly oid: string };

export type HashName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'MD5' | 'unknown';

export type SignatureAlgorithm =
  | { readonly scheme: 'rsa-pkcs1'; readonly hash: HashName; readonly oid: string }
  | {
      readonly scheme: 'rsa-pss';
      readonly hash: HashName;
      readonly mgfHash: HashName;
      readonly saltLength: number;
      readonly oid: string;
    }
  | { readonly scheme: 'ecdsa'; readonly hash: HashName; readonly oid: string }
  | { readonly scheme: 'ed25519'; readonly oid: string }
  | { readonly scheme: 'unknown'; readonly oid: string };

/** A PKCS#10 CertificationRequest as this core reads it. */
export interface ParsedCsr {
  readonly version: number;
  readonly subject: readonly Rdn[];
  readonly publicKey: PublicKey;
  /** DER of SubjectPublicKeyInfo, for signature verification. */
  readonly spki: Uint8Array;
  /** Every attribute (OID and the DER of each value), including the extensionRequest. */
  readonly attributes: readonly { readonly oid: string; readonly values: readonly Uint8Array[] }[];
  /** Requested extensions from the extensionRequest attribute, in order. */
  readonly extensions: readonly Extension[];
  /** Entries of the subjectAltName extension, in order; empty when absent. */
  readonly sans: readonly GeneralName[];
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** DER of certificationRequestInfo: the signed bytes. */
  readonly signedData: Uint8Array;
  /** The signature BIT STRING content without the unused-bits octet. */
  readonly signature: Uint8Array;
}

/** Why a request could not be read. Each becomes a deny violation with this code. */
export interface ParseFailure {
  readonly code: ParseFailureCode;
  readonly message: string;
}

export type ParseFailureCode =
  | 'RequestTooLarge'
  | 'MalformedPem'
  | 'MalformedRequest'
  | 'DuplicateExtension'
  | 'MalformedExtension';

export type ParseResult =
  | { readonly ok: true; readonly csr: ParsedCsr }
  | { readonly ok: false; readonly failure: ParseFailure };

/**
 * Proof-of-possession check, injected by the shell. The core has no crypto of its own (it may not
 * import Node built-ins, and WebCrypto is async); see docs/adr/0002. Must return false, never throw,
 * for a signature that does not verify, and must be given only algorithms the policy allows.
 */
export interface SignatureVerifier {
  verify(input: {
    readonly algorithm: SignatureAlgorithm;
    readonly spki: Uint8Array;
    readonly data: Uint8Array;
    readonly signature: Uint8Array;
  }): boolean;
}

/** A CSR object from the API, reduced to what the policy reads. The shell maps the Kubernetes object. */
export interface CsrRequest {
  readonly name: string;
  readonly uid: string;
  readonly signerName: string;
  readonly username: string;
  readonly requesterUid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
  readonly usages: readonly string[];
  readonly expirationSeconds?: number;
  /** spec.request, already base64-decoded by the shell: the PEM bytes. */
  readonly request: Uint8Array;
  /** Types of status.conditions present (Approved, Denied, Failed, …). */
  readonly conditionTypes: readonly string[];
  readonly hasCertificate: boolean;
  readonly deleting: boolean;
  /** metadata.creationTimestamp in ms since the epoch; starts the grace window. */
  readonly createdAtMs: number;
}

/** Hostname, InternalIP, ExternalIP, InternalDNS, ExternalDNS; other strings may appear and are never trusted. */
export type NodeAddressType = string;

export interface NodeFact {
  readonly name: string;
  readonly createdAtMs: number;
  readonly addresses: readonly { readonly type: NodeAddressType; readonly address: string }[];
}

/** A fact the shell tried to get. `unavailable` means a transient failure: the core retries. */
export type Fact<T> =
  | { readonly state: 'known'; readonly value: T }
  | { readonly state: 'absent' }
  | { readonly state: 'unavailable'; readonly reason: string };

/** Another Node that reports a SAN, from the address index; used for contested addresses. */
export interface AddressClaimant {
  readonly node: string;
  readonly createdAtMs: number;
}

export interface Facts {
  /** Now, in ms since the epoch. The core has no clock. */
  readonly nowMs: number;
  /** The Node named by spec.username; `absent` when the API said NotFound. */
  readonly node: Fact<NodeFact>;
  /**
   * Nodes (other than the requester) that report a given SAN. Keys are canonical SANs: `dns:<lowercase
   * name without trailing dot>` or `ip:<canonical ip>`. `unavailable` when the index is not synced.
   */
  readonly claimants: Fact<(key: string) => readonly AddressClaimant[]>;
  /** SubjectAccessReview result; ignored when the policy switches the check off. */
  readonly authorization: Fact<{ readonly allowed: boolean; readonly reason: string }>;
  /**
   * The cluster's Service IP ranges, as the API server holds them: CIDRs (`10.96.0.0/12`,
   * `fd00:10:96::/112`, from the ServiceCIDR objects) or single addresses (where the cluster has no
   * ServiceCIDR objects, the ClusterIPs of the `kubernetes` Service). `unavailable` or `absent`: the
   * core retries, and so does it when an entry is not an address or CIDR. Ignored when the policy
   * switches `reserved.serviceRanges` off.
   */
  readonly serviceRanges: Fact<readonly string[]>;
  /**
   * The operator's inventory, asked about this CSR's SANs (only when the policy requires it): per
   * SAN key, whether it vouches for it and why not. A SAN it does not mention is not vouched for.
   * `unavailable` (an error, a timeout, an answer for another CSR): the core retries, never denies.
   */
  readonly inventory?: Fact<InventoryAnswer>;
  /**
   * The certificate the requester's kubelet serves now (only when the policy accepts it and the
   * inventory could not answer): the shell verified it chains to the kubelet-serving CA, is
   * unexpired, is for server auth and names the requester. Anything but `known` is no evidence,
   * never a retry or a deny by itself: the inventory's retry stands.
   */
  readonly servedCertificate?: Fact<ServedCertificate>;
}

/** What the policy reads of a served certificate: its SAN keys and when it was issued. */
export interface ServedCertificate {
  readonly sanKeys: ReadonlySet<string>;
  readonly notBeforeMs: number;
}

/** An inventory's verdict on each SAN it was asked about, keyed like Facts.claimants. */
export type InventoryAnswer = ReadonlyMap<
  string,
  { readonly vouched: boolean; readonly reason?: string }
>;

export interface Violation {
  /** Stable CamelCase code, e.g. SanNotOwned. Written as the Denied condition's reason when it is the first. */
  readonly code: string;
  readonly message: string;
}

export type FactName =
  'node' | 'claimants' | 'authorization' | 'serviceRanges' | 'inventory' | 'servedCertificate';

/**
 * The outcome. What the caller must do:
 * - approve: write condition Approved with `reason` and `message`.
 * - deny: write condition Denied with `reason` (the first violation's code) and `message` (every violation),
 *   unless the policy says leave-pending, in which case `leavePending` is true and nothing is written.
 * - ignore: write nothing; the CSR is not ours or is settled.
 * - retry: write nothing; try again with backoff. `fact` names what was missing.
 */
export type Decision =
  | { readonly kind: 'approve'; readonly reason: string; readonly message: string }
  | {
      readonly kind: 'deny';
      readonly reason: string;
      readonly message: string;
      readonly violations: readonly Violation[];
      readonly leavePending: boolean;
    }
  | { readonly kind: 'ignore'; readonly reason: Violation }
  | { readonly kind: 'retry'; readonly fact: FactName; readonly reason: Violation };
