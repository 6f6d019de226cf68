// `stampede check`: decide one CSR offline from the objects kubectl prints.
import { readFile } from 'node:fs/promises';
import { parseKubeTimestamp, loadPolicy, defaultPolicy, readServiceRanges } from '@stampede/policy';
import type { Facts, Policy } from '@stampede/policy';
import { X509Certificate } from 'node:crypto';
import { createNodeSignatureVerifier, servedCertificateOf } from '@stampede/crypto';
import { parse as parseYaml } from 'yaml';
import { checkObjects, InputError } from './report.ts';
import type { CheckReport } from './report.ts';

export interface CheckOptions {
  /** A file with the CSR object (JSON or YAML), or `-` for stdin. */
  readonly csr: string;
  readonly nodes?: string | undefined;
  readonly policy?: string | undefined;
  readonly notAuthorized: boolean;
  /** Each --service-cidr value: CIDRs or IPs, comma- or space-separated; undefined when none. */
  readonly serviceCidrs?: readonly string[] | undefined;
  /** A file with the inventory webhook's answer (an InventoryReview) for this CSR. */
  readonly inventoryAnswer?: string | undefined;
  /** The PEM certificate the requester's kubelet serves, and the kubelet-serving CA to verify it. */
  readonly servedCertificate?: string | undefined;
  readonly servedCertificateCa?: string | undefined;
  /** RFC 3339; defaults to the real clock. */
  readonly now?: string | undefined;
}

export interface CheckIo {
  readonly readStdin: () => Promise<string>;
  readonly nowMs: () => number;
}

async function readText(path: string, io: CheckIo): Promise<string> {
  if (path === '-') return io.readStdin();
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new InputError(`cannot read ${path}: ${reason}`);
  }
}

/** JSON or YAML (YAML 1.2 reads JSON), one document. */
async function readObject(path: string, io: CheckIo): Promise<unknown> {
  const text = await readText(path, io);
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : 'invalid';
    throw new InputError(`${path} is neither JSON nor YAML: ${reason}`);
  }
}

async function readPolicy(path: string | undefined, io: CheckIo): Promise<Policy> {
  if (path === undefined) return defaultPolicy;
  const loaded = loadPolicy(await readObject(path, io));
  if (!loaded.ok) throw new InputError(`invalid policy ${path}: ${loaded.errors.join('; ')}`);
  return loaded.policy;
}

function nowFrom(options: CheckOptions, io: CheckIo): number {
  if (options.now === undefined) return io.nowMs();
  const ms = parseKubeTimestamp(options.now);
  if (ms === undefined) throw new InputError(`--now ${options.now} is not an RFC 3339 time`);
  return ms;
}

/**
 * The --service-cidr values as the serviceRanges fact: split at commas and spaces (so the output of
 * `kubectl get servicecidrs -o jsonpath=…` can be pasted), each read as the policy will read it.
 * A value the policy could not read is a bad flag here, not a retry: the user can fix it now.
 */
function serviceRangesFrom(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const ranges: string[] = [];
  for (const value of values) {
    const entries = value.split(/[\s,]+/).filter(entry => entry !== '');
    if (entries.length === 0) throw new InputError('--service-cidr needs a CIDR or an IP address');
    ranges.push(...entries);
  }
  const read = readServiceRanges({ state: 'known', value: ranges });
  if (read.state === 'unavailable') throw new InputError(`--service-cidr: ${read.reason}`);
  return ranges;
}

function certificate(pem: string, path: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new InputError(`${path} holds no PEM certificate`);
  }
}

/**
 * The served certificate as a worker would read it off the kubelet's port: the handshake's checks
 * (issued by the CA, signature, valid at --now) repeated here, then the worker's own reading. A
 * certificate that fails them is no evidence, as it would be to a worker, not a bad flag.
 */
async function servedFact(
  options: CheckOptions,
  csrUsername: string | undefined,
  nowMs: number,
  io: CheckIo,
): Promise<Facts['servedCertificate']> {
  if (options.servedCertificate === undefined) return undefined;
  if (options.servedCertificateCa === undefined)
    throw new InputError('--served-certificate needs --served-certificate-ca FILE');
  const [served, ca] = await Promise.all([
    readText(options.servedCertificate, io).then(pem =>
      certificate(pem, options.servedCertificate ?? ''),
    ),
    readText(options.servedCertificateCa, io).then(pem =>
      certificate(pem, options.servedCertificateCa ?? ''),
    ),
  ]);
  const where = `--served-certificate ${options.servedCertificate}`;
  if (!ca.ca)
    throw new InputError(
      `--served-certificate-ca ${options.servedCertificateCa}: not a CA certificate`,
    );
  if (!served.checkIssued(ca) || !served.verify(ca.publicKey))
    return { state: 'unavailable', reason: `${where}: not issued by the kubelet-serving CA` };
  if (nowMs < served.validFromDate.getTime() || nowMs > served.validToDate.getTime())
    return {
      state: 'unavailable',
      reason: `${where}: not valid at ${new Date(nowMs).toISOString()}`,
    };
  const node = /^system:node:(.+)$/.exec(csrUsername ?? '')?.[1];
  if (node === undefined) return { state: 'unavailable', reason: `${where}: no node requester` };
  return servedCertificateOf(served, node, where);
}

export async function runCheck(options: CheckOptions, io: CheckIo): Promise<CheckReport> {
  const [csr, nodes, policy, inventoryAnswer] = await Promise.all([
    readObject(options.csr, io),
    options.nodes === undefined ? undefined : readObject(options.nodes, io),
    readPolicy(options.policy, io),
    options.inventoryAnswer === undefined ? undefined : readText(options.inventoryAnswer, io),
  ]);
  const nowMs = nowFrom(options, io);
  const username = (csr as { spec?: { username?: unknown } } | null)?.spec?.username;
  const servedCertificate = await servedFact(
    options,
    typeof username === 'string' ? username : undefined,
    nowMs,
    io,
  );
  return checkObjects({
    csr,
    nodes,
    policy,
    authorized: !options.notAuthorized,
    serviceRanges: serviceRangesFrom(options.serviceCidrs),
    inventoryAnswer,
    ...(servedCertificate === undefined ? {} : { servedCertificate }),
    nowMs,
    verifier: createNodeSignatureVerifier(),
  });
}
