// Go as the oracle: runs go/csrparse (std-lib encoding/pem + crypto/x509) over many requests in one
// process. The binary is cached outside the checkout, keyed by the hash of its sources:
//   ${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}/csrparse/<key>/csrparse
// so a warm run starts no Go toolchain at all.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_DIR = fileURLToPath(new URL('../../../go/csrparse/', import.meta.url));
const SOURCES = ['go.mod', 'main.go'];

export interface GoAttribute {
  readonly oid: string;
  readonly class: number;
  readonly tag: number;
  readonly compound: boolean;
  readonly contentHex: string;
  /** The value as Go decodes it into a string, or null when Go does not see a string. */
  readonly goString: string | null;
}

export interface GoCsr {
  readonly version: number;
  readonly subject: readonly (readonly GoAttribute[])[] | null;
  readonly subjectError?: string;
  readonly commonName: string;
  readonly organization: readonly string[];
  readonly dnsNames: readonly string[];
  /** net.IP.String(): IPv4-mapped IPv6 is shown as IPv4. */
  readonly ipAddresses: readonly string[];
  readonly emailAddresses: readonly string[];
  readonly uris: readonly string[];
  readonly extensions: readonly { oid: string; critical: boolean; valueHex: string }[];
  /** exponent: decimal text (an int64 does not fit a JSON number). */
  readonly publicKey: { algorithm: string; bits: number; curve?: string; exponent?: string };
  /** x509.SignatureAlgorithm.String(), e.g. ECDSA-SHA256; "0" when unknown. */
  readonly signatureAlgorithm: string;
  readonly signatureOk: boolean;
  readonly signatureError?: string;
  /** base64 of RawTBSCertificateRequest. */
  readonly rawTbs: string;
}

export interface GoResult {
  readonly name: string;
  readonly pem?: {
    readonly found: boolean;
    readonly type: string;
    readonly headers: Readonly<Record<string, string>> | null;
    /** base64 */
    readonly bytes: string | null;
    /** base64 */
    readonly rest: string | null;
    readonly secondBlock: boolean;
  };
  readonly parseOk: boolean;
  readonly parseError?: string;
  readonly csr?: GoCsr;
  /** base64 DER, for kubelet requests built by Go. */
  readonly built?: string;
  readonly error?: string;
}

export type GoRequest =
  | { readonly name: string; readonly input: Uint8Array }
  | {
      readonly name: string;
      readonly kubelet: {
        readonly nodeName: string;
        readonly dnsNames: readonly string[];
        readonly ips: readonly string[];
        /** PKCS#8 DER of the private key. */
        readonly key: Uint8Array;
      };
    };

function findGo(): string {
  for (const candidate of ['go', '/usr/local/go/bin/go']) {
    try {
      execFileSync(candidate, ['version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    'the differential test needs Go >= 1.26 to build go/csrparse, and `go` was not found ' +
      '(not on PATH, not at /usr/local/go/bin/go). Install Go from https://go.dev/dl/.',
  );
}

/** Path of the csrparse binary, building it on a cache miss. */
export function csrparseBinary(): string {
  const hash = createHash('sha256');
  for (const file of SOURCES) hash.update(readFileSync(join(SOURCE_DIR, file)));
  const key = hash.digest('hex').slice(0, 16);
  const xdgCache = process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
  const cacheRoot = process.env['STAMPEDE_CACHE'] ?? join(xdgCache, 'stampede');
  const dir = join(cacheRoot, 'csrparse', key);
  const binary = join(dir, 'csrparse');
  if (existsSync(binary)) return binary;
  const go = findGo();
  mkdirSync(dir, { recursive: true });
  // Build beside the target and rename: concurrent test processes never see half a binary.
  const temporary = join(dir, `csrparse.${process.pid}.tmp`);
  execFileSync(go, ['build', '-trimpath', '-o', temporary, '.'], {
    cwd: SOURCE_DIR,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CGO_ENABLED: '0' },
  });
  renameSync(temporary, binary);
  return binary;
}

function encodeRequest(request: GoRequest): string {
  if ('input' in request) {
    return JSON.stringify({
      name: request.name,
      input: Buffer.from(request.input).toString('base64'),
    });
  }
  const { kubelet } = request;
  return JSON.stringify({
    name: request.name,
    kubelet: { ...kubelet, key: Buffer.from(kubelet.key).toString('base64') },
  });
}

/** Runs every request through Go in one process; results come back in order. */
export function runGoOracle(requests: readonly GoRequest[]): GoResult[] {
  const input = requests.map(encodeRequest).join('\n') + '\n';
  const stdout = execFileSync(csrparseBinary(), [], {
    input,
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = stdout
    .toString('utf8')
    .split('\n')
    .filter(line => line !== '');
  if (lines.length !== requests.length) {
    throw new Error(`csrparse answered ${lines.length} of ${requests.length} requests`);
  }
  return lines.map(line => JSON.parse(line) as GoResult);
}
