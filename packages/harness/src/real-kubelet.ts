// A real kubelet (go/kubelet: k8s.io/kubernetes v1.37.2 with the fake CRI of k8s.io/cri-client) as a
// test fixture: it registers its Node, files its kubelet-serving CSR, stores the certificate under
// its cert dir, serves it on its node IP and port, and rotates it, all on its own. Each one has its
// own temp dir (root dir, cert dir, CRI socket, config, log), a free port, its node client
// certificate from the harness's cluster CA, and node IPs that the harness adds to `lo` for it.
// Its process group, its addresses and its dir are registered with every teardown layer.
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { resolveKubeletBinary } from './binary.ts';
import { CSR_PATH, type CertificateSigningRequest, type KubeNode } from './csr.ts';
import { KubeApiError, type KubeClient } from './kube.ts';
import { kubeletArgs, kubeletConfig } from './kubelet-config.ts';
import { claimNodeIp, releaseNodeIp } from './node-ips.ts';
import { ManagedProcess, ProcessExitedError, waitUntil } from './process.ts';
import { servedCertificate } from './served-certificate.ts';
import {
  freePort,
  isAddressInUse,
  makeTempDir,
  removeTempDir,
  stderrLogger,
  type Logger,
} from './util.ts';

/** What a real kubelet needs from a running control plane (a ControlPlane satisfies it). */
export interface RealKubeletHarness {
  /** A kubeconfig with the node's client certificate (CN=system:node:<name>, O=system:nodes). */
  nodeKubeconfig(nodeName: string): string;
  readonly clusterCaPem: string;
  readonly admin: KubeClient;
}

export interface StartKubeletOptions {
  /** The node name (--hostname-override). */
  readonly name: string;
  /** One IPv4 or IPv6 address, or one of each (dual-stack); the first is where it serves. */
  readonly nodeIps: readonly string[];
  readonly harness: RealKubeletHarness;
  /** Default $STAMPEDE_KUBELET_BIN, else scripts/build-kubelet.sh. */
  readonly binary?: string;
  readonly log?: Logger;
  /** Return only once the Node is registered with these IPs (default true). */
  readonly waitForNode?: boolean;
  readonly startTimeoutMs?: number;
  /**
   * Serve on this port rather than a free one: one port for every node, as in a cluster, for a
   * reader that dials kubelets on a configured port. Each kubelet binds its own node IP.
   */
  readonly port?: number;
}

/** The certificate and key the kubelet stored (`<cert-dir>/kubelet-server-current.pem`). */
export interface StoredCertificate {
  readonly pem: string;
  readonly certificate: X509Certificate;
}

const CURRENT_PEM = 'kubelet-server-current.pem';
const PORT_ATTEMPTS = 5;

export class RealKubelet {
  readonly name: string;
  readonly binary: string;
  readonly dir: string;
  readonly rootDir: string;
  readonly certDir: string;
  readonly logPath: string;
  readonly #harness: RealKubeletHarness;
  readonly #log: Logger;
  readonly #kubeconfig: string;
  readonly #fixedPort: number | undefined;
  #nodeIps: readonly string[] = [];
  #port = 0;
  #process: ManagedProcess | undefined;
  #stopped = false;

  private constructor(binary: string, options: StartKubeletOptions) {
    this.name = options.name;
    this.binary = binary;
    this.#harness = options.harness;
    this.#log = options.log ?? stderrLogger;
    this.dir = makeTempDir(`kubelet-${options.name}`);
    this.rootDir = join(this.dir, 'root');
    this.certDir = join(this.dir, 'pki');
    this.logPath = join(this.dir, 'kubelet.log');
    for (const sub of ['root', 'pki', 'sandbox', 'pod-logs']) mkdirSync(join(this.dir, sub));
    this.#kubeconfig = options.harness.nodeKubeconfig(options.name);
    this.#fixedPort = options.port;
    writeFileSync(join(this.dir, 'cluster-ca.crt'), options.harness.clusterCaPem);
  }

  /** Use startKubelet(). */
  static async start(options: StartKubeletOptions): Promise<RealKubelet> {
    const binary = options.binary ?? (await resolveKubeletBinary(options.log ?? stderrLogger));
    const kubelet = new RealKubelet(binary, options);
    try {
      await kubelet.#run(options.nodeIps, options);
      return kubelet;
    } catch (error) {
      await kubelet.stop();
      throw error;
    }
  }

  get nodeIps(): readonly string[] {
    return this.#nodeIps;
  }

  /** The kubelet's HTTPS port on nodeIps[0]. */
  get port(): number {
    return this.#port;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  get running(): boolean {
    return this.#process?.running ?? false;
  }

  /** The last `lines` lines of its log, for failure messages. */
  tail(lines = 40): string {
    return this.#process?.tail(lines) ?? '';
  }

  /** What its port presents right now (no verification), or undefined if the handshake fails. */
  servedCertificate(): Promise<X509Certificate | undefined> {
    return servedCertificate(this.#nodeIps[0] ?? '127.0.0.1', this.#port);
  }

  /** Polls the port until it presents a certificate `accept` takes (default: any). */
  waitForServedCertificate(
    accept: (certificate: X509Certificate) => boolean = () => true,
    timeoutMs = 120_000,
  ): Promise<X509Certificate> {
    return waitUntil(
      `${this.name}: a served certificate on ${this.#nodeIps[0] ?? ''}:${String(this.#port)}`,
      async () => {
        const certificate = await this.servedCertificate();
        return certificate && accept(certificate) ? certificate : undefined;
      },
      { timeoutMs, intervalMs: 250, ...(this.#process ? { process: this.#process } : {}) },
    );
  }

  /** The certificate (and key) the kubelet stored, or undefined before the first one is issued. */
  storedCertificate(): StoredCertificate | undefined {
    let pem: string;
    try {
      pem = readFileSync(join(this.certDir, CURRENT_PEM), 'utf8');
    } catch {
      return undefined;
    }
    const leaf = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(pem)?.[0];
    return leaf === undefined ? undefined : { pem, certificate: new X509Certificate(leaf) };
  }

  /** Its Node as the API server has it, or undefined if it is not registered. */
  async node(): Promise<KubeNode | undefined> {
    try {
      return await this.#harness.admin.get<KubeNode>(`/api/v1/nodes/${this.name}`);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Every kubelet-serving CSR this node filed (spec.username), oldest first. */
  async csrs(): Promise<CertificateSigningRequest[]> {
    const list = await this.#harness.admin.get<{ items: CertificateSigningRequest[] }>(CSR_PATH);
    return list.items
      .filter(csr => csr.spec.username === `system:node:${this.name}`)
      .sort((a, b) =>
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
      );
  }

  /**
   * Restarts the kubelet with other node IPs (--node-ip and the serving address), as an operator
   * would after renumbering the node: it reports the new addresses on its Node, and its
   * certificate manager files a new CSR because the stored certificate no longer fits them.
   */
  async changeNodeIps(nodeIps: readonly string[]): Promise<void> {
    await this.halt();
    await this.#run(nodeIps, { waitForNode: true });
  }

  /** Stops the process (SIGTERM, SIGKILL after 10 s) but keeps its dirs, identity and IPs. */
  async halt(): Promise<void> {
    await this.#process?.stop();
  }

  /** Starts it again after halt(): same dirs, identity and IPs, a new port. */
  async resume(options: { waitForNode?: boolean } = {}): Promise<void> {
    await this.#run(this.#nodeIps, options);
  }

  /** halt() then resume(): a kubelet restart. */
  async restart(options: { waitForNode?: boolean } = {}): Promise<void> {
    await this.halt();
    await this.resume(options);
  }

  /** SIGTERM (SIGKILL after 10 s), then its addresses and dir go. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#process?.stop();
    for (const ip of this.#nodeIps) releaseNodeIp(ip);
    this.#nodeIps = [];
    removeTempDir(this.dir);
  }

  /** Claims the new IPs (before releasing old ones that stay), then starts on a free port. */
  async #run(
    nodeIps: readonly string[],
    options: { waitForNode?: boolean; startTimeoutMs?: number },
  ): Promise<void> {
    const primary = nodeIps[0];
    if (primary === undefined) throw new RangeError(`${this.name}: no node IP`);
    claimAll(nodeIps);
    for (const ip of this.#nodeIps) releaseNodeIp(ip);
    this.#nodeIps = [...nodeIps];
    const timeoutMs = options.startTimeoutMs ?? 120_000;
    const started = performance.now();
    await this.#spawnRetryingPortClashes(primary, timeoutMs);
    if (options.waitForNode ?? true) await this.#waitForNode(nodeIps, timeoutMs);
    this.#log(
      `kubelet ${this.name}: up on ${primary}:${String(this.#port)} in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s (dir ${this.dir})`,
    );
  }

  /** A port picked free can be taken before the kubelet binds it: then it exits, and we retry. */
  async #spawnRetryingPortClashes(primary: string, timeoutMs: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#spawn(primary, timeoutMs);
        return;
      } catch (error) {
        const clash = error instanceof ProcessExitedError && isAddressInUse(error.process.tail());
        if (!clash || attempt >= PORT_ATTEMPTS) throw error;
        this.#log(`kubelet ${this.name}: port clash, retrying (${attempt}/${PORT_ATTEMPTS})`);
      }
    }
  }

  async #spawn(primary: string, timeoutMs: number): Promise<void> {
    this.#port = this.#fixedPort ?? (await freePort(primary));
    const healthzPort = await freePort();
    const criEndpoint = `unix://${join(this.dir, 'cri.sock')}`;
    const configFile = join(this.dir, 'config.yaml');
    const config = kubeletConfig({
      address: primary,
      port: this.#port,
      healthzPort,
      criEndpoint,
      podLogsDir: join(this.dir, 'pod-logs'),
      clientCaFile: join(this.dir, 'cluster-ca.crt'),
    });
    writeFileSync(configFile, stringify(config));
    const args = kubeletArgs({
      name: this.name,
      nodeIps: this.#nodeIps,
      configFile,
      kubeconfig: this.#kubeconfig,
      rootDir: this.rootDir,
      certDir: this.certDir,
      criEndpoint,
      sandboxDir: join(this.dir, 'sandbox'),
    });
    await this.#process?.stop(2_000);
    this.#process = new ManagedProcess(`kubelet ${this.name}`, this.binary, args, {
      logPath: this.logPath,
      cwd: this.dir,
    });
    await waitUntil(
      `kubelet ${this.name} /healthz`,
      async () => {
        const res = await fetch(`http://127.0.0.1:${String(healthzPort)}/healthz`);
        return res.status === 200 ? true : undefined;
      },
      { timeoutMs, intervalMs: 200, process: this.#process },
    );
  }

  async #waitForNode(nodeIps: readonly string[], timeoutMs: number): Promise<void> {
    await waitUntil(
      `Node ${this.name} registered with ${nodeIps.join(', ')}`,
      async () => {
        const reported = new Set(
          ((await this.node())?.status?.addresses ?? [])
            .filter(a => a.type === 'InternalIP')
            .map(a => a.address),
        );
        const same = reported.size === nodeIps.length && nodeIps.every(ip => reported.has(ip));
        return same ? true : undefined;
      },
      { timeoutMs, intervalMs: 200, ...(this.#process ? { process: this.#process } : {}) },
    );
  }
}

/** All of them or none: a failed claim gives back the ones before it. */
function claimAll(nodeIps: readonly string[]): void {
  const claimed: string[] = [];
  try {
    for (const ip of nodeIps) {
      claimNodeIp(ip);
      claimed.push(ip);
    }
  } catch (error) {
    for (const ip of claimed) releaseNodeIp(ip);
    throw error;
  }
}

/** Starts a real kubelet for Node `name` on `nodeIps` against the harness's control plane. */
export function startKubelet(options: StartKubeletOptions): Promise<RealKubelet> {
  return RealKubelet.start(options);
}
