// What a kubelet's serving certificate proves (docs/adr/0024), once its chain and validity have
// been checked (by a TLS handshake in the worker, by stampede check against a CA file): its SANs and
// issue time, if it is the requester's server certificate. Shared so that the worker and the offline
// check read a certificate the same way.
import type { X509Certificate } from 'node:crypto';
import { sanKeyOf } from '@stampede/policy';
import type { Fact, ServedCertificate } from '@stampede/policy';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

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

/** The fact from a verified certificate: `unavailable` (no evidence) unless it is the requester's. */
export function servedCertificateOf(
  certificate: X509Certificate,
  nodeName: string,
  where: string,
): Fact<ServedCertificate> {
  const why = notTheRequesters(certificate, nodeName);
  if (why !== undefined) return { state: 'unavailable', reason: `${where}: ${why}` };
  const value = {
    sanKeys: servedSanKeys(certificate.subjectAltName),
    notBeforeMs: certificate.validFromDate.getTime(),
  };
  return { state: 'known', value };
}
