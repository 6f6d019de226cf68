// A kubelet's serving-certificate request, and nothing else of the kubelet: an ECDSA P-256 key,
// a PKCS#10 request with CN=system:node:<name>, O=system:nodes and SANs from the Node's
// addresses, created as the node itself (its client certificate), then watched until the
// signer issues the certificate, which is verified the way a careful kubelet would.
import { randomBytes, X509Certificate } from 'node:crypto';
import {
  condition,
  CSR_PATH,
  csrManifest,
  issuedCertificate,
  KUBELET_SERVING_USAGES,
  type CertificateSigningRequest,
  type NodeAddress,
} from './csr.ts';
import { ipBytes } from './der.ts';
import { KubeApiError, type KubeClient } from './kube.ts';
import { kubeletCsr } from '@stampede/testing';
import { servingSans } from './kubelet-sans.ts';
import { generateKeyPair, type KeyPair } from './pki.ts';

export { servingSans };

/** What the emulator needs from a running control plane (a ControlPlane satisfies it). */
export interface KubeletHarness {
  nodeClient(nodeName: string, options?: { sharedKey?: boolean }): KubeClient;
  readonly kubeletServingCaPem: string;
}

export interface KubeletEmulatorOptions {
  readonly nodeName: string;
  /** The Node's status.addresses. Default: Hostname <nodeName> and InternalIP 127.0.0.1. */
  readonly addresses?: readonly NodeAddress[];
  readonly harness: KubeletHarness;
  /** Share one client-certificate key across node identities (load tests). */
  readonly sharedClientKey?: boolean;
}

export interface CsrTimings {
  /** performance.now() when the create call returned. */
  readonly createdAt: number;
  /** performance.now() when an Approved condition was first observed, if it was. */
  readonly approvedAt?: number;
  /** performance.now() when status.certificate was first observed, if it was. */
  readonly issuedAt?: number;
  /** How long the create call took. */
  readonly createRequestMs: number;
  readonly createdToApprovedMs?: number;
  readonly approvedToIssuedMs?: number;
  readonly createdToIssuedMs?: number;
}

export interface IssuedServingCertificate {
  readonly csrName: string;
  readonly certificatePem: string;
  readonly certificate: X509Certificate;
  readonly timings: CsrTimings;
}

/** The CSR ended Denied or Failed instead of being issued. */
export class CsrNotIssuedError extends Error {
  readonly csr: CertificateSigningRequest;
  readonly conditionType: string;
  constructor(csr: CertificateSigningRequest, type: string) {
    const c = condition(csr, type);
    super(`CSR ${csr.metadata.name} is ${type}: ${c?.reason ?? ''} ${c?.message ?? ''}`.trim());
    this.name = 'CsrNotIssuedError';
    this.csr = csr;
    this.conditionType = type;
  }
}

export interface CreateCsrOptions {
  /** Default: `<nodeName>-serving-<random>`. */
  readonly name?: string;
  readonly expirationSeconds?: number;
  /** Default: the kubelet's ECDSA usages, digital signature and server auth. */
  readonly usages?: readonly string[];
}

export class KubeletEmulator {
  readonly nodeName: string;
  readonly addresses: readonly NodeAddress[];
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  /** The serving key pair; a new one per emulator, as a kubelet generates. */
  readonly key: KeyPair;
  readonly client: KubeClient;
  readonly #caPem: string;
  #csr: CertificateSigningRequest | undefined;
  #createdAt = 0;
  #createRequestMs = 0;
  #expirationSeconds: number | undefined;

  constructor(options: KubeletEmulatorOptions) {
    this.nodeName = options.nodeName;
    this.addresses = options.addresses ?? [
      { type: 'Hostname', address: options.nodeName },
      { type: 'InternalIP', address: '127.0.0.1' },
    ];
    const sans = servingSans(this.addresses);
    this.dnsNames = sans.dnsNames;
    this.ips = sans.ips;
    this.key = generateKeyPair();
    this.client = options.harness.nodeClient(options.nodeName, {
      sharedKey: options.sharedClientKey ?? false,
    });
    this.#caPem = options.harness.kubeletServingCaPem;
  }

  /** The CSR as created (spec.username etc. filled in by the apiserver). */
  get csr(): CertificateSigningRequest | undefined {
    return this.#csr;
  }

  /**
   * The PEM request this emulator sends: @stampede/testing's kubeletCsr, which reproduces Go's
   * x509.CreateCertificateRequest byte for byte (string types, SAN order, IPv4 as 4 octets).
   */
  requestPem(): string {
    return kubeletCsr({
      nodeName: this.nodeName,
      dnsNames: this.dnsNames,
      ips: this.ips,
      key: this.key,
    }).pemText;
  }

  /** Creates the CertificateSigningRequest as this node. */
  async createCsr(options: CreateCsrOptions = {}): Promise<CertificateSigningRequest> {
    const name = options.name ?? `${this.nodeName}-serving-${randomBytes(4).toString('hex')}`;
    this.#expirationSeconds = options.expirationSeconds;
    const manifest = csrManifest({
      name,
      requestPem: this.requestPem(),
      usages: options.usages ?? KUBELET_SERVING_USAGES,
      ...(options.expirationSeconds !== undefined
        ? { expirationSeconds: options.expirationSeconds }
        : {}),
    });
    const started = performance.now();
    this.#csr = await this.client.post<CertificateSigningRequest>(CSR_PATH, manifest);
    this.#createdAt = performance.now();
    this.#createRequestMs = this.#createdAt - started;
    return this.#csr;
  }

  /**
   * Watches this node's CSR until the certificate is issued (and verified), or the CSR is Denied
   * or Failed (CsrNotIssuedError), or `timeoutMs` passes.
   */
  async waitForCertificate({ timeoutMs = 30_000 } = {}): Promise<IssuedServingCertificate> {
    const created = this.#csr;
    if (created === undefined) throw new Error('createCsr() first');
    const name = created.metadata.name;
    let approvedAt: number | undefined;
    const final = await this.#watchUntil(csr => {
      if (approvedAt === undefined && condition(csr, 'Approved')) approvedAt = performance.now();
      return (
        issuedCertificate(csr) !== undefined ||
        condition(csr, 'Denied') !== undefined ||
        condition(csr, 'Failed') !== undefined
      );
    }, timeoutMs);
    const issuedAt = performance.now();
    for (const type of ['Denied', 'Failed'])
      if (condition(final, type)) throw new CsrNotIssuedError(final, type);
    const certificatePem = issuedCertificate(final) ?? '';
    const certificate = this.verify(certificatePem);
    const createdAt = this.#createdAt;
    return {
      csrName: name,
      certificatePem,
      certificate,
      timings: {
        createdAt,
        issuedAt,
        createRequestMs: this.#createRequestMs,
        createdToIssuedMs: issuedAt - createdAt,
        ...(approvedAt !== undefined
          ? {
              approvedAt,
              createdToApprovedMs: approvedAt - createdAt,
              approvedToIssuedMs: issuedAt - approvedAt,
            }
          : {}),
      },
    };
  }

  /** Watches until `done(csr)` is truthy and returns that CSR. */
  async waitFor(
    done: (csr: CertificateSigningRequest) => unknown,
    { timeoutMs = 30_000 } = {},
  ): Promise<CertificateSigningRequest> {
    return this.#watchUntil(done, timeoutMs);
  }

  async #watchUntil(
    done: (csr: CertificateSigningRequest) => unknown,
    timeoutMs: number,
  ): Promise<CertificateSigningRequest> {
    const created = this.#csr;
    if (created === undefined) throw new Error('createCsr() first');
    if (done(created)) return created;
    const abort = new AbortController();
    const timer = setTimeout(() => {
      abort.abort();
    }, timeoutMs);
    let last = created;
    try {
      // A watch can end (server-side timeout) or expire (410 Gone): resume, or re-read, until done.
      while (!abort.signal.aborted) {
        const result = await this.#watchOnce(last, done, abort.signal);
        last = result.last;
        if (result.done) return last;
      }
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    throw new Error(
      `CSR ${created.metadata.name}: nothing conclusive within ${timeoutMs} ms; ` +
        `last conditions ${JSON.stringify(last.status?.conditions ?? [])}`,
    );
  }

  async #watchOnce(
    from: CertificateSigningRequest,
    done: (csr: CertificateSigningRequest) => unknown,
    signal: AbortSignal,
  ): Promise<{ last: CertificateSigningRequest; done: boolean }> {
    const name = from.metadata.name;
    const path = `${CSR_PATH}?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
    const resourceVersion = from.metadata.resourceVersion;
    let last = from;
    try {
      const events = this.client.watch<CertificateSigningRequest>(path, {
        ...(resourceVersion !== undefined ? { resourceVersion } : {}),
        signal,
      });
      for await (const event of events) {
        if (event.type === 'ERROR') throw new KubeApiError('WATCH', path, 410, event.object);
        if (event.type === 'BOOKMARK' || event.type === 'DELETED') continue;
        last = event.object;
        if (done(last)) return { last, done: true };
      }
      return { last, done: false };
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 410)) throw error;
      last = await this.client.get<CertificateSigningRequest>(
        `${CSR_PATH}/${encodeURIComponent(name)}`,
      );
      return { last, done: Boolean(done(last)) };
    }
  }

  /**
   * Checks an issued certificate as a kubelet would rely on it: chains to the kubelet-serving CA,
   * carries our public key, our subject, exactly the requested SANs, server auth, and a sane
   * validity window. Returns the parsed leaf.
   */
  verify(certificatePem: string): X509Certificate {
    const leafPem = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(
      certificatePem,
    )?.[0];
    if (leafPem === undefined) throw new Error('no certificate in status.certificate');
    const leaf = new X509Certificate(leafPem);
    const problems = [...this.#identityProblems(leaf), ...this.#validityProblems(leaf)];
    if (problems.length > 0)
      throw new Error(`issued certificate for ${this.nodeName} is wrong: ${problems.join('; ')}`);
    return leaf;
  }

  #identityProblems(leaf: X509Certificate): string[] {
    const problems: string[] = [];
    const ca = new X509Certificate(this.#caPem);
    if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey))
      problems.push('does not chain to the kubelet-serving CA');
    if (!leaf.publicKey.equals(this.key.publicKey)) problems.push('public key is not ours');
    if (leaf.subject !== `O=system:nodes\nCN=system:node:${this.nodeName}`)
      problems.push(`subject ${leaf.subject}`);
    const got = [...parseSubjectAltName(leaf.subjectAltName ?? '')].sort().join(',');
    const want = [
      ...new Set([
        ...this.dnsNames.map(d => `DNS:${d}`),
        ...this.ips.map(ip => `IP:${ipBytes(ip).toString('hex')}`),
      ]),
    ]
      .sort()
      .join(',');
    if (got !== want) problems.push(`SANs ${got} != requested ${want}`);
    if (!leaf.keyUsage.includes('1.3.6.1.5.5.7.3.1')) problems.push('no server auth usage');
    if (leaf.ca) problems.push('is a CA');
    return problems;
  }

  #validityProblems(leaf: X509Certificate): string[] {
    const problems: string[] = [];
    const now = Date.now();
    const from = leaf.validFromDate.getTime();
    const to = leaf.validToDate.getTime();
    if (from > now + 60_000) problems.push(`not valid before ${leaf.validFrom}`);
    if (to <= now) problems.push(`already expired ${leaf.validTo}`);
    // The signer backdates 5 minutes and caps at expirationSeconds (at least 10 minutes).
    const cap = this.#expirationSeconds;
    if (cap !== undefined && to - from > (Math.max(cap, 600) + 300 + 60) * 1000) {
      problems.push(`valid ${Math.round((to - from) / 1000)} s, asked for ${cap} s`);
    }
    return problems;
  }

  /** Creates the CSR and waits for its certificate: one full kubelet serving-cert bootstrap. */
  async bootstrap(
    options: CreateCsrOptions & { timeoutMs?: number } = {},
  ): Promise<IssuedServingCertificate> {
    await this.createCsr(options);
    return this.waitForCertificate(
      options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {},
    );
  }
}

/** "DNS:a, IP Address:10.0.0.1" → {"DNS:a", "IP:0a000001"}, IPs normalised to bytes. */
export function parseSubjectAltName(text: string): Set<string> {
  const out = new Set<string>();
  for (const part of text.split(', ')) {
    if (part.startsWith('DNS:')) out.add(part);
    else if (part.startsWith('IP Address:'))
      out.add(`IP:${ipBytes(part.slice('IP Address:'.length)).toString('hex')}`);
    else if (part !== '') out.add(part);
  }
  return out;
}
