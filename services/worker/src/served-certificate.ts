// The certificate a requester's kubelet serves now (docs/adr/0024): read only while the inventory
// cannot answer, over TLS from the kubelet's port. Only a certificate that chains to the
// kubelet-serving CA, is unexpired (both checked by the TLS handshake), is for server auth and names
// the requester counts; its SANs and issue time are the fact. Anything else (refused, timed out,
// another CA, another node's certificate) is `unavailable`, which the policy reads as "no evidence":
// the inventory's retry stands, never a deny.
import type { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { parseIp, sanKeyOf, specialIpClass } from '@stampede/policy';
import type { Fact, NodeFact, ServedCertificate } from '@stampede/policy';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

export interface ServedCertificateOptions {
  /** The kubelet-serving signer's CA (PEM). */
  readonly caPem: string;
  readonly timeoutMs: number;
  /**
   * The kubelets' port, the same for every node (the operator's setting, not the Node's
   * `daemonEndpoints`, which the node writes itself).
   */
  readonly port: number;
}

export interface ServedCertificates {
  read(host: string, nodeName: string, signal: AbortSignal): Promise<Fact<ServedCertificate>>;
}

/**
 * Where to dial: the Node's first InternalIP that this CSR also asks for, so the address passes
 * every rule of the same evaluation (ownership, contest, reserved and Service ranges) before the
 * certificate can count, and never a name (a lookup the node would choose) nor a loopback,
 * link-local, unspecified or multicast address (the worker's own host or its neighbours).
 */
export function servedCertificateHost(
  node: NodeFact,
  requestedKeys: readonly string[],
): string | undefined {
  for (const { type, address } of node.addresses) {
    if (type !== 'InternalIP') continue;
    const ip = parseIp(address);
    if (ip === undefined || specialIpClass(ip) !== undefined) continue;
    const key = sanKeyOf({ type: 'IP', value: ip.text });
    if (key !== undefined && requestedKeys.includes(key)) return ip.text;
  }
  return undefined;
}

const unavailable = (reason: string) => ({ state: 'unavailable', reason }) as const;

/**
 * The SAN keys of `subjectAltName` as Node prints it (`DNS:a, IP Address:10.0.0.1`). A value Node
 * had to quote (it holds a comma or a quote) is not one a kubelet asks for: the whole list is then
 * read as no evidence rather than split where it might not end.
 */
export function servedSanKeys(subjectAltName: string | undefined): ReadonlySet<string> {
  if (subjectAltName === undefined || subjectAltName.includes('"')) return new Set();
  const keys = new Set<string>();
  for (const entry of subjectAltName.split(', ')) {
    const [, kind, value] = /^(DNS|IP Address):(.+)$/.exec(entry) ?? [];
    if (kind === undefined || value === undefined) continue;
    const key = sanKeyOf({ type: kind === 'DNS' ? 'DNS' : 'IP', value });
    if (key !== undefined) keys.add(key);
  }
  return keys;
}

/** Why `certificate` is not the requester's serving certificate, or undefined when it is. */
export function notTheRequesters(
  certificate: X509Certificate,
  nodeName: string,
): string | undefined {
  const commonNames = certificate.subject.split('\n').filter(line => line.startsWith('CN='));
  if (commonNames.length !== 1 || commonNames[0] !== `CN=system:node:${nodeName}`)
    return `it names ${commonNames.join(', ') || 'no CN'}, not system:node:${nodeName}`;
  // Node's typings say always an array; a certificate without the extension gives undefined.
  const usages = certificate.keyUsage as readonly string[] | undefined;
  if (usages?.includes(SERVER_AUTH) !== true) return 'it is not for server auth';
  return undefined;
}

function handshake(
  host: string,
  options: ServedCertificateOptions,
  signal: AbortSignal,
): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('cancelled'));
      return;
    }
    // The chain and the validity period are checked by the handshake; the host name is not, since
    // the SANs are what is being read, not trusted.
    const socket = connect({
      host,
      port: options.port,
      ca: options.caPem,
      rejectUnauthorized: true,
      checkServerIdentity: () => undefined,
    });
    const end = (outcome: () => void): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      socket.destroy();
      outcome();
    };
    const abort = (): void => {
      end(() => {
        reject(new Error('cancelled'));
      });
    };
    const timer = setTimeout(() => {
      end(() => {
        reject(new Error(`timed out after ${String(options.timeoutMs)} ms`));
      });
    }, options.timeoutMs);
    signal.addEventListener('abort', abort, { once: true });
    socket.once('error', (error: Error) => {
      end(() => {
        reject(error);
      });
    });
    socket.once('secureConnect', () => {
      const peer = socket.getPeerX509Certificate();
      end(() => {
        if (peer === undefined) reject(new Error('no certificate'));
        else resolve(peer);
      });
    });
  });
}

export function createServedCertificates(options: ServedCertificateOptions): ServedCertificates {
  return {
    async read(host, nodeName, signal) {
      let certificate: X509Certificate;
      try {
        certificate = await handshake(host, options, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        const detail = error instanceof Error ? error.message : String(error);
        return unavailable(`${host}:${String(options.port)}: ${detail.slice(0, 200)}`);
      }
      const why = notTheRequesters(certificate, nodeName);
      if (why !== undefined) return unavailable(`the certificate served there: ${why}`);
      const value = {
        sanKeys: servedSanKeys(certificate.subjectAltName),
        notBeforeMs: certificate.validFromDate.getTime(),
      };
      return { state: 'known', value };
    },
  };
}
