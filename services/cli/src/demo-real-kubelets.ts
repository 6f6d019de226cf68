// The demo's real kubelets (kubelet v1.37.2 with a fake container runtime, from the harness), next
// to the emulated fleet. Nothing here files a CSR: each kubelet registers its Node, files its own
// serving CSR, stores what it is issued and serves it on its node IP and port. The demo then does
// what `openssl s_client -connect <ip>:<port>` would: it connects to that port, takes the
// certificate presented, and checks it chains to the kubelet-serving CA, names the node, carries
// exactly the SANs the kubelet derives from its Node's addresses, and is the file on disk.
import { X509Certificate } from 'node:crypto';
import { freeNodeIps, parseSubjectAltName, servingSans, startKubelet } from '@stampede/harness';
import type { ControlPlane, NodeAddress, RealKubelet } from '@stampede/harness';

/** What one real kubelet's port serves, as the summary prints it. */
export interface ServedReport {
  readonly name: string;
  /** ip:port, bracketed for IPv6. */
  readonly endpoint: string;
  readonly subject?: string;
  readonly sans?: string;
  readonly issuer?: string;
  readonly notAfter?: string;
  /** Empty when the served certificate is what a kubelet should serve. */
  readonly problems: readonly string[];
}

const oneLine = (dn: string): string => dn.split('\n').join(', ');
const endpointOf = (ip: string, port: number): string =>
  ip.includes(':') ? `[${ip}]:${String(port)}` : `${ip}:${String(port)}`;

/**
 * `count` real kubelets, each on an address of its own on `lo`, started at once by start();
 * served() waits for what their ports serve. stop() removes every one that came up, whatever
 * happened.
 */
export class DemoKubelets {
  readonly count: number;
  readonly #cp: ControlPlane;
  readonly #started: RealKubelet[] = [];
  #up: Promise<void> = Promise.resolve();

  constructor(cp: ControlPlane, count: number) {
    this.#cp = cp;
    this.count = count;
  }

  /** What the progress line says while they start. */
  get starting(): string {
    return this.count === 0 ? '' : `; starting ${String(this.count)} real kubelets`;
  }

  start(): void {
    this.#up = this.#start(this.#cp, this.count);
    // Awaited by served(); this keeps an early failure from counting as unhandled meanwhile.
    this.#up.catch(() => undefined);
  }

  async #start(cp: ControlPlane, count: number): Promise<void> {
    const ips = count === 0 ? [] : freeNodeIps(count);
    try {
      await Promise.all(
        ips.map(async (ip, i) => {
          const kubelet = await startKubelet({
            name: `real-kubelet-${String(i + 1)}`,
            nodeIps: [ip],
            harness: cp,
            log: () => undefined,
          });
          this.#started.push(kubelet);
        }),
      );
    } catch (error) {
      const why = String(error).split('\n')[0] ?? '';
      throw new Error(`real kubelets did not start (--real-kubelets 0 runs without them): ${why}`, {
        cause: error,
      });
    }
    this.#started.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Once all are up: what each one's port serves (see servedReports). */
  async served(kubeletServingCaPem: string): Promise<ServedReport[]> {
    await this.#up;
    return servedReports(this.#started, kubeletServingCaPem);
  }

  async stop(): Promise<void> {
    await this.#up.catch(() => undefined);
    await Promise.all(this.#started.map(kubelet => kubelet.stop()));
  }
}

/** The SANs a certificate carries, as `DNS:x, IP:y` in a fixed order (comparable across sources). */
function sansText(set: Iterable<string>): string {
  return [...set].sort().join(', ');
}

/** The SANs a kubelet requests for these Node addresses, in the form sansText gives. */
function sansOfNode(addresses: readonly NodeAddress[]): string {
  const want = servingSans(addresses);
  // Spelled as a certificate's SANs are, so parseSubjectAltName reads both the same way.
  const spelled = [
    ...want.dnsNames.map(d => `DNS:${d}`),
    ...want.ips.map(ip => `IP Address:${ip}`),
  ];
  return sansText(parseSubjectAltName(spelled.join(', ')));
}

/** What is wrong with the certificate a kubelet serves, given its Node's addresses. */
export function problemsOf(
  kubelet: Pick<RealKubelet, 'name' | 'storedCertificate'>,
  served: X509Certificate,
  ca: X509Certificate,
  addresses: readonly NodeAddress[],
): string[] {
  const wantSans = sansOfNode(addresses);
  const problems: string[] = [];
  if (!served.checkIssued(ca) || !served.verify(ca.publicKey))
    problems.push('does not chain to the kubelet-serving CA');
  if (served.subject !== `O=system:nodes\nCN=system:node:${kubelet.name}`)
    problems.push(`subject ${oneLine(served.subject)}`);
  const got = sansText(parseSubjectAltName(served.subjectAltName ?? ''));
  if (got !== wantSans) problems.push(`SANs ${got}, its Node's addresses give ${wantSans}`);
  const stored = kubelet.storedCertificate();
  if (stored?.certificate.fingerprint256 !== served.fingerprint256)
    problems.push('not the certificate in kubelet-server-current.pem');
  return problems;
}

/**
 * Waits (up to `timeoutMs`) for each kubelet's port to serve a certificate issued by the
 * kubelet-serving CA, then reports what it serves and anything wrong with it.
 */
export async function servedReports(
  kubelets: readonly RealKubelet[],
  kubeletServingCaPem: string,
  timeoutMs = 120_000,
): Promise<ServedReport[]> {
  const ca = new X509Certificate(kubeletServingCaPem);
  return Promise.all(
    kubelets.map(async kubelet => {
      const endpoint = endpointOf(kubelet.nodeIps[0] ?? '', kubelet.port);
      const addresses = (await kubelet.node())?.status?.addresses ?? [];
      let served: X509Certificate;
      try {
        served = await kubelet.waitForServedCertificate(c => c.checkIssued(ca), timeoutMs);
      } catch (error) {
        const why = String(error).split('\n')[0] ?? '';
        return { name: kubelet.name, endpoint, problems: [`no certificate served: ${why}`] };
      }
      return {
        name: kubelet.name,
        endpoint,
        subject: oneLine(served.subject),
        sans: (served.subjectAltName ?? '').replaceAll('IP Address:', 'IP:'),
        issuer: oneLine(served.issuer),
        notAfter: new Date(served.validTo).toISOString(),
        problems: problemsOf(kubelet, served, ca, addresses),
      };
    }),
  );
}

/** Every real kubelet serves what it should. */
export const allServedRight = (reports: readonly ServedReport[]): boolean =>
  reports.every(report => report.problems.length === 0);

/** The summary's lines for the real kubelets. */
export function servedLines(reports: readonly ServedReport[], requested: number): string[] {
  if (requested === 0) return ['  real kubelets:       none (--real-kubelets 0)'];
  const lines = [
    `  real kubelets:       ${String(reports.length)} (kubelet v1.37.2, fake container runtime); what each port serves:`,
  ];
  for (const report of reports) {
    const verdict = report.problems.length === 0 ? 'verified' : 'WRONG';
    lines.push(`    ${report.name.padEnd(15)}  ${report.endpoint}  ${verdict}`);
    if (report.subject !== undefined) {
      lines.push(`      subject:  ${report.subject}`);
      lines.push(`      SANs:     ${report.sans ?? ''}`);
      lines.push(`      issuer:   ${report.issuer ?? ''}   not after ${report.notAfter ?? ''}`);
    }
    for (const problem of report.problems) lines.push(`      problem:  ${problem}`);
  }
  return lines;
}
