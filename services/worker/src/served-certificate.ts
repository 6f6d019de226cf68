// The certificate a requester's kubelet serves now (docs/adr/0024): evidence for a renewal, read
// over TLS from the Node's kubelet endpoint. Only a certificate that chains to the kubelet-serving
// CA, is unexpired (both checked by the TLS handshake), is for server auth and names the requester
// counts; its SANs are the fact. Anything else (refused, timed out, another CA, another node's
// certificate) is `unavailable`, which the policy reads as "no evidence", never as a deny.
import type { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { sanKeyOf } from '@stampede/policy';
import type { Fact } from '@stampede/policy';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

export interface ServedCertificateOptions {
  /** The kubelet-serving signer's CA (PEM). */
  readonly caPem: string;
  readonly timeoutMs: number;
}

/** Where a Node's kubelet listens: an InternalIP and `status.daemonEndpoints.kubeletEndpoint`. */
export interface KubeletEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface ServedCertificates {
  read(
    endpoint: KubeletEndpoint,
    nodeName: string,
    signal: AbortSignal,
  ): Promise<Fact<ReadonlySet<string>>>;
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
  endpoint: KubeletEndpoint,
  options: ServedCertificateOptions,
  signal: AbortSignal,
): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    // The chain and the validity period are checked by the handshake; the host name is not, since
    // the SANs are what is being read, not trusted.
    const socket = connect({
      host: endpoint.host,
      port: endpoint.port,
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
    async read(endpoint, nodeName, signal) {
      let certificate: X509Certificate;
      try {
        certificate = await handshake(endpoint, options, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        const detail = error instanceof Error ? error.message : String(error);
        return unavailable(`${endpoint.host}:${String(endpoint.port)}: ${detail.slice(0, 200)}`);
      }
      const why = notTheRequesters(certificate, nodeName);
      if (why !== undefined) return unavailable(`the certificate served there: ${why}`);
      return { state: 'known', value: servedSanKeys(certificate.subjectAltName) };
    },
  };
}
