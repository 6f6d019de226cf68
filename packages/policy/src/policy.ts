// The policy configuration: a strict schema with safe defaults (packages/policy/README.md,
// "Configuration"), compiled once at load into the form the checks read.
// Unknown keys are errors: a typo in a security policy must never be silently ignored.
import { z } from 'zod';
import { hostnameProblem, normaliseDnsName } from './dns.ts';
import { parseCidr, parseIpOrCidr } from './ip.ts';
import { rfc3339Ms } from './kube-object.ts';
import type { Cidr } from './ip.ts';

export const USAGE_DIGITAL_SIGNATURE = 'digital signature';
export const USAGE_KEY_ENCIPHERMENT = 'key encipherment';
export const USAGE_SERVER_AUTH = 'server auth';

/** The only usage sets the kubelet-serving signer issues; a policy may allow a subset of them. */
const SIGNER_USAGE_SETS: readonly (readonly string[])[] = [
  [USAGE_DIGITAL_SIGNATURE, USAGE_SERVER_AUTH],
  [USAGE_DIGITAL_SIGNATURE, USAGE_KEY_ENCIPHERMENT, USAGE_SERVER_AUTH],
];

/**
 * What rule 13 reserves out of the box. `reserved.names`, `reserved.nameSuffixes` and `reserved.ips`
 * add to these and never replace them: a policy that lists one extra name must not drop `localhost`
 * by accident. Only `reserved.removeBuiltIns` takes a built-in away, by naming it.
 */
export const BUILT_IN_RESERVED = {
  names: [
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    // Cloud metadata names: a certificate for them lets a node impersonate the metadata service.
    'metadata.google.internal',
  ],
  /** `svc.<clusterDomain>` is reserved besides these, always. */
  nameSuffixes: ['localhost', 'svc'],
  /** Cloud metadata over IPv6 (EC2); its IPv4 twin 169.254.169.254 is link-local, denied by rule 12. */
  ips: ['fd00:ec2::254'],
} as const;

export const OWNERSHIP_MODES = ['node-addresses', 'allow-lists-only'] as const;
export type OwnershipMode = (typeof OWNERSHIP_MODES)[number];
export type OnViolation = 'deny' | 'leave-pending';
export type Curve = 'P-256' | 'P-384' | 'P-521';

/** A loaded policy. Everything a check needs per CSR is precompiled here (CIDRs, regexes, sets). */
export interface Policy {
  /** `deny` writes Denied; `leave-pending` reports the violations but writes nothing. */
  readonly onViolation: OnViolation;
  readonly maxRequestBytes: number;
  readonly maxSans: number;
  readonly expirationSeconds: { readonly min: number; readonly max: number };
  readonly keys: {
    readonly ecdsaCurves: ReadonlySet<Curve>;
    readonly rsa: { readonly enabled: boolean; readonly minBits: number; readonly maxBits: number };
    readonly ed25519: boolean;
  };
  /** Each allowed set as a sorted, comma-joined key, for set-equality by string compare. */
  readonly allowedUsageSets: readonly string[];
  readonly subjectAccessReview: { readonly enabled: boolean; readonly subresource: string };
  readonly clusterDomain: string;
  readonly reserved: {
    /** Exact names, normalised: the built-ins not removed, and the configured ones. */
    readonly names: ReadonlySet<string>;
    /** Suffixes with their leading dot, normalised; always includes `.svc.<clusterDomain>`. */
    readonly nameSuffixes: readonly string[];
    /** The built-in addresses not removed, and the configured ones. */
    readonly ips: readonly ReservedIp[];
    /** Deny IP SANs inside the cluster's Service IP ranges (the `serviceRanges` fact). */
    readonly serviceRanges: boolean;
    /** Deny IPv6 addresses that embed an IPv4 one: IPv4-compatible, NAT64, 6to4 (rule 12). */
    readonly embeddedIpv4: boolean;
  };
  readonly ownership: {
    readonly mode: OwnershipMode;
    /** Undefined: any address (in node-addresses mode) / none (in allow-lists-only mode). */
    readonly allowedIpCidrs: readonly Cidr[] | undefined;
    /** Normalised, without a leading dot; a name matches a suffix equal to it or ending in `.<suffix>`. */
    readonly allowedDnsSuffixes: readonly string[] | undefined;
    /** Anchored, case-insensitive. */
    readonly allowedDnsPattern: RegExp | undefined;
  };
  readonly nodeGraceSeconds: number;
  /**
   * Evidence beyond the Node's own report (docs/adr/0022): with `inventory`, every SAN but the node
   * name must be vouched for by the operator's inventory webhook (the `inventory` fact).
   */
  readonly evidence: {
    readonly inventory: boolean;
    /**
     * While the inventory cannot answer (and only then), a request whose every SAN the requester's
     * kubelet serves now, in a certificate from the kubelet-serving CA issued at or after
     * `issuedAfterMs` (when the inventory began to be required, so the inventory vouched for it)
     * and, with `maxAgeMs`, not older than that, needs no answer (docs/adr/0024).
     */
    readonly servedCertificate:
      { readonly issuedAfterMs: number; readonly maxAgeMs: number | undefined } | undefined;
  };
}

/** Where evidence for a SAN can come from, besides the Node's own status. */
export const EVIDENCE_SOURCES = ['inventory'] as const;

/** A reserved address or range, and where it comes from (named in the deny message). */
export interface ReservedIp {
  readonly cidr: Cidr;
  readonly source: 'built-in' | 'reserved.ips';
}

const usageKey = (usages: readonly string[]): string => [...usages].sort().join(',');

const hostname = z.string().transform((raw, ctx) => {
  const name = normaliseDnsName(raw);
  const problem = hostnameProblem(name);
  if (problem !== undefined)
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(raw)} ${problem}` });
  return name;
});

const normaliseSuffix = (raw: string): string =>
  normaliseDnsName(raw.startsWith('.') ? raw.slice(1) : raw);

const suffix = z.string().transform((raw, ctx) => {
  const name = normaliseSuffix(raw);
  const problem = hostnameProblem(name);
  if (problem !== undefined)
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(raw)} ${problem}` });
  return name;
});

const cidr = (parse: typeof parseCidr) =>
  z.string().transform((raw, ctx): Cidr => {
    const parsed = parse(raw);
    if ('cidr' in parsed) return parsed.cidr;
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(raw)}: ${parsed.error}` });
    return z.NEVER;
  });

/** The canonical text of an address or CIDR (`FD00:EC2::254` → `fd00:ec2::254/128`), else as is. */
function canonicalIpText(raw: string): string {
  const parsed = parseIpOrCidr(raw);
  return 'cidr' in parsed ? parsed.cidr.text : raw;
}

/** One of `builtIns`, compared after `normalise`; anything else is an error that lists them. */
const builtIn = (what: string, builtIns: readonly string[], normalise: (raw: string) => string) =>
  z.string().transform((raw, ctx) => {
    const value = normalise(raw);
    const known = builtIns.find(entry => normalise(entry) === value);
    if (known !== undefined) return normalise(known);
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(raw)} is not a built-in reserved ${what} (${builtIns.join(', ')})`,
    });
    return z.NEVER;
  });

const pattern = z
  .string()
  .min(1)
  .max(1024)
  .transform((raw, ctx): RegExp => {
    try {
      return new RegExp(`^(?:${raw})$`, 'i');
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'invalid';
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${reason}` });
      return z.NEVER;
    }
  });

const usageSet = z.array(z.string()).superRefine((usages, ctx) => {
  const key = usageKey(usages);
  const allowed = SIGNER_USAGE_SETS.some(set => usageKey(set) === key);
  if (!allowed || new Set(usages).size !== usages.length) {
    const sets = SIGNER_USAGE_SETS.map(set => `[${set.join(', ')}]`).join(' or ');
    ctx.addIssue({
      code: 'custom',
      message: `must be ${sets}: the kubelet-serving signer issues nothing else`,
    });
  }
});

const int = (min: number, max: number) => z.int().min(min).max(max);

/** The configuration schema. Parse with `loadPolicy`, which adds the cross-field rules. */
export const policyConfigSchema = z.strictObject({
  onViolation: z.enum(['deny', 'leave-pending']).default('deny'),
  maxRequestBytes: int(512, 65536).default(65536),
  maxSans: int(1, 1024).default(32),
  expirationSeconds: z
    .strictObject({
      min: int(600, 2 ** 31 - 1).default(600),
      max: int(600, 2 ** 31 - 1).default(31_708_800),
    })
    .prefault({}),
  keys: z
    .strictObject({
      ecdsaCurves: z
        .array(z.enum(['P-256', 'P-384', 'P-521']))
        .default(['P-256', 'P-384', 'P-521']),
      rsa: z
        .strictObject({
          enabled: z.boolean().default(true),
          minBits: int(2048, 8192).default(2048),
          maxBits: int(2048, 8192).default(8192),
        })
        .prefault({}),
      ed25519: z.boolean().default(true),
    })
    .prefault({}),
  allowedUsageSets: z
    .array(usageSet)
    .min(1)
    .default(SIGNER_USAGE_SETS.map(set => [...set])),
  subjectAccessReview: z
    .strictObject({
      enabled: z.boolean().default(true),
      subresource: z
        .string()
        .regex(/^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a lowercase resource name')
        .default('selfnodeserver'),
    })
    .prefault({}),
  clusterDomain: hostname.default('cluster.local'),
  reserved: z
    .strictObject({
      names: z.array(hostname).default([]),
      nameSuffixes: z.array(suffix).default([]),
      ips: z.array(cidr(parseIpOrCidr)).default([]),
      removeBuiltIns: z
        .strictObject({
          names: z.array(builtIn('name', BUILT_IN_RESERVED.names, normaliseDnsName)).default([]),
          nameSuffixes: z
            .array(builtIn('name suffix', BUILT_IN_RESERVED.nameSuffixes, normaliseSuffix))
            .default([]),
          ips: z.array(builtIn('IP', BUILT_IN_RESERVED.ips, canonicalIpText)).default([]),
        })
        .prefault({}),
      serviceRanges: z.boolean().default(true),
      embeddedIpv4: z.boolean().default(true),
    })
    .prefault({}),
  ownership: z
    .strictObject({
      mode: z.enum(OWNERSHIP_MODES).default('node-addresses'),
      allowedIpCidrs: z.array(cidr(parseCidr)).min(1).optional(),
      allowedDnsSuffixes: z.array(suffix).min(1).optional(),
      allowedDnsPattern: pattern.optional(),
    })
    .prefault({}),
  nodeGraceSeconds: int(0, 86_400).default(600),
  evidence: z
    .strictObject({
      // Each source listed must vouch for each SAN; none (the default) keeps the Node's word.
      require: z.array(z.enum(EVIDENCE_SOURCES)).default([]),
      // Renewals through an inventory outage: the certificate the kubelet serves now, if issued
      // since the inventory was required, stands in for the answer the inventory cannot give.
      servedCertificate: z
        .strictObject({
          issuedAfter: rfc3339Ms,
          maxAgeDays: int(1, 3_650).optional(),
        })
        .optional(),
    })
    .prefault({}),
});

/** The configuration as written (input shape), e.g. for a YAML file. */
export type PolicyConfig = z.input<typeof policyConfigSchema>;
type Parsed = z.output<typeof policyConfigSchema>;

/** Cross-field rules; each names the field to fix. */
function crossFieldErrors(p: Parsed): string[] {
  const errors: string[] = [];
  if (p.expirationSeconds.min > p.expirationSeconds.max) {
    errors.push('expirationSeconds.max: must be at least expirationSeconds.min');
  }
  if (p.keys.rsa.minBits > p.keys.rsa.maxBits) {
    errors.push('keys.rsa.maxBits: must be at least keys.rsa.minBits');
  }
  if (p.keys.ecdsaCurves.length === 0 && !p.keys.rsa.enabled && !p.keys.ed25519) {
    errors.push('keys: allows no key type at all, so nothing could ever be approved');
  }
  const o = p.ownership;
  const anyAllowList = [o.allowedIpCidrs, o.allowedDnsSuffixes, o.allowedDnsPattern].some(
    list => list !== undefined,
  );
  if (o.mode === 'allow-lists-only' && !anyAllowList) {
    errors.push(
      'ownership.mode: allow-lists-only needs at least one of ownership.allowedIpCidrs, ' +
        'ownership.allowedDnsSuffixes or ownership.allowedDnsPattern',
    );
  }
  if (p.evidence.servedCertificate !== undefined && !p.evidence.require.includes('inventory')) {
    errors.push(
      'evidence.servedCertificate: stands in for the inventory, so needs evidence.require: [inventory]',
    );
  }
  return errors;
}

function compileServedCertificate(
  served: Parsed['evidence']['servedCertificate'],
): Policy['evidence']['servedCertificate'] {
  if (served === undefined) return undefined;
  return {
    issuedAfterMs: served.issuedAfter,
    maxAgeMs: served.maxAgeDays === undefined ? undefined : served.maxAgeDays * 86_400_000,
  };
}

/** Rule 13's reserved lists: the built-ins less those removed, then the configured ones. */
function compileReserved(p: Parsed): Policy['reserved'] {
  const { removeBuiltIns: removed, ...r } = p.reserved;
  const kept = (
    builtIns: readonly string[],
    drop: readonly string[],
    normalise: (raw: string) => string = raw => raw,
  ) => builtIns.map(normalise).filter(entry => !drop.includes(entry));
  const builtInIps = kept(BUILT_IN_RESERVED.ips, removed.ips, canonicalIpText).map(
    (text): ReservedIp => {
      const parsed = parseIpOrCidr(text);
      if (!('cidr' in parsed)) throw new Error(`bad built-in reserved IP ${text}`);
      return { cidr: parsed.cidr, source: 'built-in' };
    },
  );
  const suffixes = [
    ...kept(BUILT_IN_RESERVED.nameSuffixes, removed.nameSuffixes),
    ...r.nameSuffixes,
    `svc.${p.clusterDomain}`,
  ];
  return {
    names: new Set([...kept(BUILT_IN_RESERVED.names, removed.names), ...r.names]),
    nameSuffixes: [...new Set(suffixes)].map(s => `.${s}`),
    ips: [...builtInIps, ...r.ips.map((cidr): ReservedIp => ({ cidr, source: 'reserved.ips' }))],
    serviceRanges: r.serviceRanges,
    embeddedIpv4: r.embeddedIpv4,
  };
}

function compile(p: Parsed): Policy {
  return {
    onViolation: p.onViolation,
    maxRequestBytes: p.maxRequestBytes,
    maxSans: p.maxSans,
    expirationSeconds: p.expirationSeconds,
    keys: { ecdsaCurves: new Set(p.keys.ecdsaCurves), rsa: p.keys.rsa, ed25519: p.keys.ed25519 },
    allowedUsageSets: p.allowedUsageSets.map(usageKey),
    subjectAccessReview: p.subjectAccessReview,
    clusterDomain: p.clusterDomain,
    reserved: compileReserved(p),
    ownership: {
      mode: p.ownership.mode,
      allowedIpCidrs: p.ownership.allowedIpCidrs,
      allowedDnsSuffixes: p.ownership.allowedDnsSuffixes,
      allowedDnsPattern: p.ownership.allowedDnsPattern,
    },
    nodeGraceSeconds: p.nodeGraceSeconds,
    evidence: {
      inventory: p.evidence.require.includes('inventory'),
      servedCertificate: compileServedCertificate(p.evidence.servedCertificate),
    },
  };
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  const at = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const prefix = at === '(root)' ? '' : `${at}.`;
    return issue.keys.map(key => `${prefix}${key}: unknown field`);
  }
  return [`${at}: ${issue.message}`];
}

export type LoadPolicyResult =
  | { readonly ok: true; readonly policy: Policy }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Validates and compiles a policy configuration (for example the parsed YAML of a policy file;
 * `undefined` or `null` means "all defaults"). On failure, every error names the field path.
 */
export function loadPolicy(input: unknown): LoadPolicyResult {
  const parsed = policyConfigSchema.safeParse(input ?? {});
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.flatMap(formatIssue) };
  const errors = crossFieldErrors(parsed.data);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, policy: compile(parsed.data) };
}

function mustLoad(input: unknown): Policy {
  const result = loadPolicy(input);
  if (!result.ok) throw new Error(`built-in policy is invalid: ${result.errors.join('; ')}`);
  return result.policy;
}

/** The default policy: every field at its safe default (packages/policy/README.md). */
export const defaultPolicy: Policy = mustLoad({});
