// The worker's configuration: environment variables and an optional policy file (YAML or JSON),
// validated at start; the error names every bad variable and every bad policy field.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { defaultPolicy, loadPolicy } from '@stampede/policy';
import type { Policy } from '@stampede/policy';
import {
  commonServiceDocs,
  commonServiceVariables,
  formatHelp,
  intVar as int,
  parseEnv,
  withSentinelPassword,
} from '@stampede/runtime';
import type { ConfigResult, EnvDoc, LogLevel, SentinelConfig } from '@stampede/runtime';
import type { InventoryOptions } from './inventory.ts';
import type { EventPolicy } from './process-csr.ts';
import type { ServedCertificateOptions } from './served-certificate.ts';

export interface WorkerConfig {
  readonly redisUrl: string;
  /** Find the Redis primary through these sentinels (REDIS_SENTINELS). */
  readonly redisSentinel: SentinelConfig | undefined;
  /** Start even when Redis may evict keys (REDIS_ALLOW_EVICTION). */
  readonly redisAllowEviction: boolean;
  readonly kubeconfig: string | undefined;
  readonly policy: Policy;
  readonly policyFile: string | undefined;
  readonly concurrency: number;
  /** Jobs started per second across all workers; undefined means no limit. */
  readonly rateLimitPerSecond: number | undefined;
  readonly shutdownDeadlineMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly lockDurationMs: number;
  readonly kubeMaxConnections: number;
  /** Which decisions get an Event (EVENTS). */
  readonly events: EventPolicy;
  readonly healthPort: number;
  readonly healthHost: string;
  readonly logLevel: LogLevel;
  readonly instance: string;
  /** The inventory webhook (INVENTORY_*); set exactly when the policy requires it. */
  readonly inventory: InventoryOptions | undefined;
  /** Reading kubelets' certificates (SERVED_CERTIFICATE_*); set exactly when the policy accepts them. */
  readonly servedCertificate: ServedCertificateOptions | undefined;
}

const HEALTH_PORT = 8081;
const variablesOf = commonServiceVariables(HEALTH_PORT);

const schema = z.object({
  ...variablesOf.connection,
  POLICY_FILE: z.string().min(1).optional(),
  CONCURRENCY: int(1, 1_000, 10),
  RATE_LIMIT_JOBS_PER_SECOND: int(0, 100_000, 20),
  SHUTDOWN_DEADLINE_SECONDS: int(1, 3_600, 20),
  BACKOFF_INITIAL_MS: int(10, 600_000, 1_000),
  BACKOFF_MAX_MS: int(10, 3_600_000, 30_000),
  LOCK_DURATION_MS: int(1_000, 600_000, 30_000),
  KUBE_MAX_CONNECTIONS: int(1, 1_024, 16),
  EVENTS: z.enum(['all', 'denials']).default('all'),
  INVENTORY_URL: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
  INVENTORY_CA_FILE: z.string().min(1).optional(),
  INVENTORY_CLIENT_CERT_FILE: z.string().min(1).optional(),
  INVENTORY_CLIENT_KEY_FILE: z.string().min(1).optional(),
  INVENTORY_TOKEN_FILE: z.string().min(1).optional(),
  INVENTORY_TIMEOUT_MS: int(100, 60_000, 2_000),
  SERVED_CERTIFICATE_CA_FILE: z.string().min(1).optional(),
  // A node chooses how long its port keeps a worker waiting: a few seconds at most.
  SERVED_CERTIFICATE_TIMEOUT_MS: int(100, 5_000, 2_000),
  SERVED_CERTIFICATE_PORT: int(1, 65_535, 10_250),
  SERVED_CERTIFICATE_PREVIEW: z.enum(['off', 'accept-known-wrong-approvals']).default('off'),
  ...variablesOf.process,
});

const common = commonServiceDocs({
  healthPort: HEALTH_PORT,
  podName: 'instance name in logs and Events',
});

const variables: readonly EnvDoc[] = [
  ...common.connection,
  { name: 'POLICY_FILE', description: 'policy (YAML or JSON); unset means the default policy' },
  { name: 'CONCURRENCY', description: 'jobs processed at once by this process', default: '10' },
  {
    name: 'RATE_LIMIT_JOBS_PER_SECOND',
    description: 'jobs started per second by all workers together, ~5 API calls each; 0: none',
    default: '20',
  },
  {
    name: 'SHUTDOWN_DEADLINE_SECONDS',
    description: 'finish in-flight jobs before releasing them',
    default: '20',
  },
  { name: 'BACKOFF_INITIAL_MS', description: 'first retry delay', default: '1000' },
  { name: 'BACKOFF_MAX_MS', description: 'longest retry delay', default: '30000' },
  {
    name: 'LOCK_DURATION_MS',
    description: "a killed worker's jobs are retaken after this",
    default: '30000',
  },
  {
    name: 'KUBE_MAX_CONNECTIONS',
    description: 'keep-alive connections to the API server',
    default: '16',
  },
  {
    name: 'EVENTS',
    description: "which decisions get an Event: 'all', or 'denials' (an approval is its condition)",
    default: 'all',
  },
  {
    name: 'INVENTORY_URL',
    description: 'https endpoint of the inventory webhook; required when the policy requires it',
  },
  {
    name: 'INVENTORY_CA_FILE',
    description: "CA bundle for the inventory's certificate; required with INVENTORY_URL",
  },
  { name: 'INVENTORY_CLIENT_CERT_FILE', description: 'client certificate for the inventory (PEM)' },
  { name: 'INVENTORY_CLIENT_KEY_FILE', description: 'its key (PEM)' },
  {
    name: 'INVENTORY_TOKEN_FILE',
    description: 'bearer token for the inventory, re-read each minute',
  },
  { name: 'INVENTORY_TIMEOUT_MS', description: 'per review; a timeout retries', default: '2000' },
  {
    name: 'SERVED_CERTIFICATE_CA_FILE',
    description:
      'the kubelet-serving CA; required when the policy accepts served certificates as evidence',
  },
  {
    name: 'SERVED_CERTIFICATE_TIMEOUT_MS',
    description: "per read of a kubelet's certificate (at most 5000); a timeout is no evidence",
    default: '2000',
  },
  {
    name: 'SERVED_CERTIFICATE_PORT',
    description: "the kubelets' port (not the one a Node reports of itself)",
    default: '10250',
  },
  {
    name: 'SERVED_CERTIFICATE_PREVIEW',
    description:
      'accept-known-wrong-approvals: start although served-certificate evidence is suspended (ADR 24); for work on it only',
    default: 'off',
  },
  ...common.process,
];

export const HELP = formatHelp(
  'usage: stampede-worker [--help]\n\nTakes CSR jobs from Redis (BullMQ), decides each with the policy and approves or denies it\nthrough the API server. Stateless; run as many as needed.',
  variables,
);

type ReadFile = (path: string) => string;

function readPolicy(path: string | undefined, readFile: ReadFile): ConfigResult<Policy> {
  if (path === undefined) return { ok: true, config: defaultPolicy };
  let document: unknown;
  try {
    document = parseYaml(readFile(path));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, errors: [`POLICY_FILE ${path}: ${detail.split('\n')[0] ?? ''}`] };
  }
  const loaded = loadPolicy(document);
  if (loaded.ok) return { ok: true, config: loaded.policy };
  return { ok: false, errors: loaded.errors.map(error => `POLICY_FILE ${path}: ${error}`) };
}

type Env = z.output<typeof schema>;

/** Why the INVENTORY_* variables cannot be used with this policy, if they cannot. */
function inventoryRefusal(e: Env, required: boolean, readFile: ReadFile): string | undefined {
  // A URL with a policy that does not require the inventory is an operator who believes SANs
  // are checked when they are not.
  if (e.INVENTORY_URL === undefined)
    return required ? 'INVENTORY_URL: required, the policy requires the inventory' : undefined;
  if (!required)
    return 'INVENTORY_URL: set, but the policy does not require the inventory (evidence.require)';
  // Without a CA of its own, any certificate a public CA issued for the inventory's host name
  // would be believed: whoever obtains one answers for every SAN.
  if (e.INVENTORY_CA_FILE === undefined)
    return "INVENTORY_CA_FILE: required, the CA that issued the inventory's certificate";
  if ((e.INVENTORY_CLIENT_CERT_FILE === undefined) !== (e.INVENTORY_CLIENT_KEY_FILE === undefined))
    return 'INVENTORY_CLIENT_KEY_FILE: needs INVENTORY_CLIENT_CERT_FILE, and back';
  // Read once here so a missing or empty token fails at start, not as a retry on every CSR.
  if (e.INVENTORY_TOKEN_FILE !== undefined && readFile(e.INVENTORY_TOKEN_FILE).trim() === '')
    return `INVENTORY_TOKEN_FILE ${e.INVENTORY_TOKEN_FILE}: empty`;
  return undefined;
}

/** The inventory settings, refused unless they match the policy. */
function inventoryOptions(
  e: Env,
  policy: Policy,
  readFile: ReadFile,
): ConfigResult<InventoryOptions | undefined> {
  try {
    const refusal = inventoryRefusal(e, policy.evidence.inventory, readFile);
    if (refusal !== undefined) return { ok: false, errors: [refusal] };
    if (e.INVENTORY_URL === undefined) return { ok: true, config: undefined };
    const read = (path: string | undefined) => (path === undefined ? undefined : readFile(path));
    const [caPem, clientCertPem, clientKeyPem] = [
      read(e.INVENTORY_CA_FILE),
      read(e.INVENTORY_CLIENT_CERT_FILE),
      read(e.INVENTORY_CLIENT_KEY_FILE),
    ];
    return {
      ok: true,
      config: {
        url: new URL(e.INVENTORY_URL),
        timeoutMs: e.INVENTORY_TIMEOUT_MS,
        ...(caPem === undefined ? {} : { caPem }),
        ...(clientCertPem === undefined ? {} : { clientCertPem }),
        ...(clientKeyPem === undefined ? {} : { clientKeyPem }),
        ...(e.INVENTORY_TOKEN_FILE === undefined ? {} : { tokenFile: e.INVENTORY_TOKEN_FILE }),
      },
    };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, errors: [`INVENTORY_*_FILE: ${detail.split('\n')[0] ?? ''}`] };
  }
}

/** The served-certificate settings, refused unless they match the policy. */
function servedCertificateOptions(
  e: Env,
  policy: Policy,
  readFile: ReadFile,
): ConfigResult<ServedCertificateOptions | undefined> {
  const file = e.SERVED_CERTIFICATE_CA_FILE;
  if (policy.evidence.servedCertificate === undefined) {
    return file === undefined
      ? { ok: true, config: undefined }
      : {
          ok: false,
          errors: [
            'SERVED_CERTIFICATE_CA_FILE: set, but the policy does not accept served certificates',
          ],
        };
  }
  if (file === undefined) {
    const why = 'required, the policy accepts served certificates (evidence.servedCertificate)';
    return { ok: false, errors: [`SERVED_CERTIFICATE_CA_FILE: ${why}`] };
  }
  try {
    const caPem = readFile(file);
    // A typo'd or wrong file would make every read "no evidence" in silence: refuse it at start.
    const ca = new X509Certificate(caPem);
    if (!ca.ca) return { ok: false, errors: ['SERVED_CERTIFICATE_CA_FILE: not a CA certificate'] };
    // A second review found wrong-approval paths: an inventory answer the worker cannot read (too
    // large, a 404 for a retired node) counts as an outage the node can cause for itself, and
    // maxAgeDays does not bound a chain of renewals approved during an outage. Suspended until
    // both are fixed (ADR 24).
    if (e.SERVED_CERTIFICATE_PREVIEW !== 'accept-known-wrong-approvals') {
      const why = 'suspended: a node can make it approve SANs the inventory refuses (ADR 24)';
      return { ok: false, errors: [`evidence.servedCertificate: ${why}`] };
    }
    return {
      ok: true,
      config: {
        caPem,
        timeoutMs: e.SERVED_CERTIFICATE_TIMEOUT_MS,
        port: e.SERVED_CERTIFICATE_PORT,
      },
    };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, errors: [`SERVED_CERTIFICATE_CA_FILE: ${detail.split('\n')[0] ?? ''}`] };
  }
}

export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadFile = path => readFileSync(path, 'utf8'),
): ConfigResult<WorkerConfig> {
  const parsed = parseEnv(schema, env);
  const policy = readPolicy(parsed.ok ? parsed.config.POLICY_FILE : env['POLICY_FILE'], readFile);
  const errors = [...(parsed.ok ? [] : parsed.errors), ...(policy.ok ? [] : policy.errors)];
  if (!parsed.ok || !policy.ok) return { ok: false, errors };
  const e = parsed.config;
  if (e.BACKOFF_MAX_MS < e.BACKOFF_INITIAL_MS) {
    return { ok: false, errors: ['BACKOFF_MAX_MS: must be at least BACKOFF_INITIAL_MS'] };
  }
  const inventory = inventoryOptions(e, policy.config, readFile);
  if (!inventory.ok) return inventory;
  const served = servedCertificateOptions(e, policy.config, readFile);
  if (!served.ok) return served;
  return {
    ok: true,
    config: {
      redisUrl: e.REDIS_URL,
      redisSentinel: withSentinelPassword(e.REDIS_SENTINELS, e.REDIS_SENTINEL_PASSWORD),
      redisAllowEviction: e.REDIS_ALLOW_EVICTION,
      kubeconfig: e.KUBECONFIG_PATH,
      policy: policy.config,
      policyFile: e.POLICY_FILE,
      concurrency: e.CONCURRENCY,
      rateLimitPerSecond:
        e.RATE_LIMIT_JOBS_PER_SECOND === 0 ? undefined : e.RATE_LIMIT_JOBS_PER_SECOND,
      shutdownDeadlineMs: e.SHUTDOWN_DEADLINE_SECONDS * 1_000,
      backoff: { initialMs: e.BACKOFF_INITIAL_MS, maxMs: e.BACKOFF_MAX_MS },
      lockDurationMs: e.LOCK_DURATION_MS,
      kubeMaxConnections: e.KUBE_MAX_CONNECTIONS,
      events: e.EVENTS,
      healthPort: e.HEALTH_PORT,
      healthHost: e.HEALTH_HOST,
      logLevel: e.LOG_LEVEL,
      instance: e.POD_NAME ?? hostname(),
      inventory: inventory.config,
      servedCertificate: served.config,
    },
  };
}
