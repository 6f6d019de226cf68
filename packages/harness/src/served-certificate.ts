// What a TLS server presents, as `openssl s_client -connect <ip>:<port>` shows it: connect without
// verifying (judging the certificate is the caller's job), take the peer certificate, hang up.
import type { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';

/**
 * The leaf certificate served on `host:port`, or undefined when the handshake fails (a kubelet that
 * has no serving certificate yet aborts every handshake).
 */
export function servedCertificate(
  host: string,
  port: number,
  timeoutMs = 5_000,
): Promise<X509Certificate | undefined> {
  return new Promise(resolve => {
    const socket = connect({
      host,
      port,
      // No SNI: a kubelet serves one certificate whatever the name, and SNI may not be an IP.
      servername: '',
      rejectUnauthorized: false,
      timeout: timeoutMs,
    });
    const done = (certificate: X509Certificate | undefined): void => {
      socket.destroy();
      resolve(certificate);
    };
    socket.once('secureConnect', () => {
      done(socket.getPeerX509Certificate());
    });
    socket.once('error', () => {
      done(undefined);
    });
    socket.once('timeout', () => {
      done(undefined);
    });
  });
}
