// The certificate a requester's kubelet serves now (docs/adr/0024): read only while the inventory
// cannot answer, over TLS from the kubelet's port. Only a certificate that chains to the
// kubelet-serving CA, is unexpired (both checked by the TLS handshake), is for server auth and names
// the requester counts; its SANs and issue time are the fact. Anything else (refused, timed out,
// another CA, another node's certificate) is `unavailable`, which the policy reads as "no evidence":
// the inventory's retry stands, never a deny.
import type { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { servedCertificateOf } from '@stampede/crypto';
import { parseIp, sanKeyOf, specialIpClass } from '@stampede/policy';
import type { Fact, NodeFact, ServedCertificate } from '@stampede/policy';

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
      return servedCertificateOf(certificate, nodeName, 'the certificate served there');
    },
  };
}
