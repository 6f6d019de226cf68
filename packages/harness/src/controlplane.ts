// A real control plane on loopback: etcd → kube-apiserver → kube-controller-manager (csrsigning
// only), each its own process group from one multi-call binary, then a canary CSR through
// approve → issue. Everything lives in one temp dir: pki/, etcd/, *.log, kubeconfigs/.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolveControlPlaneBinary } from './binary.ts';
import { ClusterPki, type ClientIdentity, type IssueOptions } from './cluster-pki.ts';
import {
  CSR_PATH,
  setApprovalCondition,
  type CertificateSigningRequest,
  type KubeNode,
  type NodeAddress,
} from './csr.ts';
import {
  createNode,
  requestServiceAccountToken,
  SERVICE_ACCOUNTS,
  type StampedeService,
  type CreateNodeOptions,
  type TokenOptions,
} from './fixtures.ts';
import { KubeClient, type KubeCredentials } from './kube.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { KubeletEmulator } from './kubelet.ts';
import { applyFile, RBAC_FILES, rbacDir } from './manifests.ts';
import { ManagedProcess, ProcessExitedError, waitUntil } from './process.ts';
import { unregisterDir } from './teardown.ts';
import {
  freePort,
  isAddressInUse,
  keepTempDirs,
  makeTempDir,
  stderrLogger,
  type Logger,
} from './util.ts';

export interface ControlPlaneOptions {
  /** The multi-call binary; default $STAMPEDE_CONTROLPLANE_BIN or scripts/build-controlplane.sh. */
  readonly binary?: string;
  /** Progress lines; default stderr (silence with STAMPEDE_HARNESS_QUIET=1). */
  readonly log?: Logger;
  /** KCM's client rate limit; the default 20/30 would cap issuance at ~20 CSRs/s. */
  readonly kubeApiQps?: number;
  readonly kubeApiBurst?: number;
  /** --cluster-signing-duration (default 24h). */
  readonly signingDuration?: string;
  /** Run the approve → issue canary before returning (default true). */
  readonly canary?: boolean;
  /** Apply deploy/base/rbac/*.yaml (default true). */
  readonly applyRbac?: boolean;
  /**
   * Extra flags per component, appended last (so they win). An `--authorization-config=` for the
   * apiserver replaces the default `--authorization-mode=Node,RBAC`.
   */
  readonly extraArgs?: {
    readonly etcd?: readonly string[];
    readonly apiserver?: readonly string[];
    readonly controllerManager?: readonly string[];
  };
}

export interface StartupTimings {
  readonly binaryMs: number;
  readonly pkiMs: number;
  readonly etcdMs: number;
  readonly apiserverMs: number;
  /** KCM spawn → canary certificate issued (KCM has no health endpoint; the canary is its probe). */
  readonly controllerManagerMs: number;
  readonly rbacMs: number;
  readonly totalMs: number;
}

export interface ControlPlanePorts {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
}

const PORT_ATTEMPTS = 5;

export class ControlPlane {
  readonly dir: string;
  readonly binary: string;
  readonly pki: ClusterPki;
  readonly log: Logger;
  readonly #options: ControlPlaneOptions;
  #ports: ControlPlanePorts = { etcdClient: 0, etcdPeer: 0, apiserver: 0 };
  #etcd: ManagedProcess | undefined;
  #apiserver: ManagedProcess | undefined;
  #controllerManager: ManagedProcess | undefined;
  #admin: KubeClient | undefined;
  readonly #clients = new Map<string, KubeClient>();
  #timings: StartupTimings | undefined;
  #stopped = false;

  private constructor(binary: string, options: ControlPlaneOptions) {
    this.binary = binary;
    this.#options = options;
    this.log = options.log ?? stderrLogger;
    this.dir = makeTempDir('controlplane');
    mkdirSync(join(this.dir, 'kubeconfigs'));
    this.pki = new ClusterPki(join(this.dir, 'pki'));
  }

  /** Use startControlPlane(). */
  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const log = options.log ?? stderrLogger;
    const t0 = performance.now();
    const binary = options.binary ?? (await resolveControlPlaneBinary(log));
    const t1 = performance.now();
    const cp = new ControlPlane(binary, options);
    const t2 = performance.now();
    log(`control plane: dir ${cp.dir}`);
    try {
      const etcdMs = await cp.#startEtcd();
      const apiserverMs = await cp.#startApiserver();
      const controllerManagerMs = await cp.#startControllerManager(options.canary ?? true);
      const t3 = performance.now();
      if (options.applyRbac ?? true) await cp.applyRbac();
      const rbacMs = performance.now() - t3;
      cp.#timings = {
        binaryMs: t1 - t0,
        pkiMs: t2 - t1,
        etcdMs,
        apiserverMs,
        controllerManagerMs,
        rbacMs,
        totalMs: performance.now() - t0,
      };
      const ms = (n: number): string => `${(n / 1000).toFixed(1)} s`;
      log(
        `control plane: ready at ${cp.server} in ${ms(cp.#timings.totalMs)} ` +
          `(etcd ${ms(etcdMs)}, apiserver ${ms(apiserverMs)}, KCM+canary ${ms(controllerManagerMs)})`,
      );
      return cp;
    } catch (error) {
      await cp.stop({ keepDir: true });
      throw error;
    }
  }

  get ports(): ControlPlanePorts {
    return this.#ports;
  }

  get server(): string {
    return `https://127.0.0.1:${this.#ports.apiserver}`;
  }

  get etcdUrl(): string {
    return `http://127.0.0.1:${this.#ports.etcdClient}`;
  }

  get timings(): StartupTimings {
    if (this.#timings === undefined) throw new Error('not started');
    return this.#timings;
  }

  /** PEM of the CA that signed the apiserver's serving cert (and all client certs). */
  get clusterCaPem(): string {
    return this.pki.clusterCa.certPem;
  }

  /** PEM of the CA the csrsigning controller issues kubelet serving certificates from. */
  get kubeletServingCaPem(): string {
    return this.pki.kubeletServingCa.certPem;
  }

  get adminKubeconfigPath(): string {
    return join(this.dir, 'kubeconfigs', 'admin.kubeconfig');
  }

  /** pid of each component, for leak tests. */
  get pids(): { etcd?: number; apiserver?: number; controllerManager?: number } {
    return {
      ...(this.#etcd ? { etcd: this.#etcd.pid } : {}),
      ...(this.#apiserver ? { apiserver: this.#apiserver.pid } : {}),
      ...(this.#controllerManager ? { controllerManager: this.#controllerManager.pid } : {}),
    };
  }

  /** Log file of each component. */
  get logs(): { etcd: string; apiserver: string; controllerManager: string } {
    return {
      etcd: join(this.dir, 'etcd.log'),
      apiserver: join(this.dir, 'kube-apiserver.log'),
      controllerManager: join(this.dir, 'kube-controller-manager.log'),
    };
  }

  /** A system:masters client (exempt from APF: use node or SA identities for realistic load). */
  get admin(): KubeClient {
    this.#admin ??= this.client(this.credentials(this.pki.admin));
    return this.#admin;
  }

  credentials(identity: ClientIdentity | { token: string }): KubeCredentials {
    return 'token' in identity
      ? { server: this.server, caPem: this.clusterCaPem, token: identity.token }
      : {
          server: this.server,
          caPem: this.clusterCaPem,
          certPem: identity.certPem,
          keyPem: identity.keyPem,
        };
  }

  /** A client for any credentials; closed by stop(). */
  client(credentials: KubeCredentials, options: { maxSockets?: number } = {}): KubeClient {
    const client = new KubeClient(credentials, options);
    this.#clients.set(`anon-${String(this.#clients.size)}-${String(Math.random())}`, client);
    return client;
  }

  /** Credentials of node `nodeName`: a client cert CN=system:node:<name>, O=system:nodes. */
  nodeCredentials(nodeName: string, options: IssueOptions = {}): KubeCredentials {
    return this.credentials(this.pki.issueNodeClientCert(nodeName, options));
  }

  /** A (cached) client authenticated exactly as node `nodeName`'s kubelet. */
  nodeClient(nodeName: string, options: IssueOptions = {}): KubeClient {
    const key = `node:${nodeName}`;
    let client = this.#clients.get(key);
    if (client === undefined) {
      client = new KubeClient(this.nodeCredentials(nodeName, options), { maxSockets: 4 });
      this.#clients.set(key, client);
    }
    return client;
  }

  /** Writes a kubeconfig for these credentials into the temp dir and returns its path. */
  writeKubeconfig(name: string, credentials: KubeCredentials): string {
    return writeKubeconfig(join(this.dir, 'kubeconfigs', `${name}.kubeconfig`), credentials, name);
  }

  nodeKubeconfig(nodeName: string): string {
    return this.writeKubeconfig(`node-${nodeName}`, this.nodeCredentials(nodeName));
  }

  /** Creates a Node with status.addresses (as admin). */
  createNode(
    name: string,
    addresses?: readonly NodeAddress[],
    options: CreateNodeOptions = {},
  ): Promise<KubeNode> {
    return createNode(this, name, addresses, options);
  }

  /**
   * A TokenRequest token for ServiceAccount namespace/name (created if missing). The default,
   * stampede-system/stampede-approver, and any SA deploy/ does not bind are bound to both services'
   * roles (their union); prefer serviceToken() to run a service with exactly its own permissions.
   */
  approverToken(
    namespace = 'stampede-system',
    name = 'stampede-approver',
    options: TokenOptions = {},
  ): Promise<string> {
    return requestServiceAccountToken(this.admin, namespace, name, options);
  }

  /** A kubeconfig for the approver's ServiceAccount token (see approverToken). */
  async approverKubeconfig(
    namespace = 'stampede-system',
    name = 'stampede-approver',
  ): Promise<string> {
    const token = await this.approverToken(namespace, name);
    return this.writeKubeconfig(`sa-${namespace}-${name}`, this.credentials({ token }));
  }

  /** A token for the service's own ServiceAccount, bound by deploy/base/rbac (least privilege). */
  serviceToken(service: StampedeService, options: TokenOptions = {}): Promise<string> {
    const { namespace, name } = SERVICE_ACCOUNTS[service];
    return requestServiceAccountToken(this.admin, namespace, name, options);
  }

  /** A kubeconfig for serviceToken(service): run the watcher or worker exactly as deployed. */
  async serviceKubeconfig(service: StampedeService): Promise<string> {
    const { namespace, name } = SERVICE_ACCOUNTS[service];
    const token = await this.serviceToken(service);
    return this.writeKubeconfig(`sa-${namespace}-${name}`, this.credentials({ token }));
  }

  /** Applies deploy/base/rbac/{watcher-rbac,worker-rbac,selfnodeserver-rbac}.yaml (RBAC_FILES). */
  async applyRbac(): Promise<void> {
    for (const file of RBAC_FILES) await applyFile(this.admin, join(rbacDir(), file));
  }

  approve(csrName: string, reason = 'HarnessApproved'): Promise<CertificateSigningRequest> {
    return setApprovalCondition(this.admin, csrName, 'Approved', reason);
  }

  deny(csrName: string, reason = 'HarnessDenied'): Promise<CertificateSigningRequest> {
    return setApprovalCondition(this.admin, csrName, 'Denied', reason);
  }

  getCsr(csrName: string): Promise<CertificateSigningRequest> {
    return this.admin.get(`${CSR_PATH}/${encodeURIComponent(csrName)}`);
  }

  // ---- start-up ----------------------------------------------------------------------------

  async #retryOnPortClash(component: string, attempt: () => Promise<void>): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        await attempt();
        return;
      } catch (error) {
        const clash = error instanceof ProcessExitedError && isAddressInUse(error.process.tail());
        if (!clash || i >= PORT_ATTEMPTS) throw error;
        this.log(`${component}: port clash, retrying with new ports (${i}/${PORT_ATTEMPTS})`);
      }
    }
  }

  async #startEtcd(): Promise<number> {
    const started = performance.now();
    await this.#retryOnPortClash('etcd', async () => {
      const etcdClient = await freePort();
      const etcdPeer = await freePort();
      this.#ports = { ...this.#ports, etcdClient, etcdPeer };
      // A failed attempt may have initialised it.
      rmSync(join(this.dir, 'etcd'), { recursive: true, force: true });
      await this.#spawnEtcd();
    });
    const ms = performance.now() - started;
    this.log(`etcd: healthy on ${this.etcdUrl} in ${ms.toFixed(0)} ms`);
    return ms;
  }

  /** etcd on the current ports and data dir, until /health says so. */
  async #spawnEtcd(): Promise<void> {
    const client = this.etcdUrl;
    const peer = `http://127.0.0.1:${this.#ports.etcdPeer}`;
    const args = [
      'etcd',
      '--name=default',
      `--data-dir=${join(this.dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--unsafe-no-fsync', // test data: durability buys nothing, fsync costs a lot on a shared disk
      '--log-level=warn',
      '--quota-backend-bytes=4294967296',
      ...(this.#options.extraArgs?.etcd ?? []),
    ];
    await this.#etcd?.stop(2000);
    this.#etcd = new ManagedProcess('etcd', this.binary, args, {
      logPath: this.logs.etcd,
      cwd: this.dir,
    });
    await waitUntil(
      'etcd /health',
      async () => {
        const res = await fetch(`${client}/health`);
        const body = (await res.json()) as { health?: string };
        return body.health === 'true' ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, process: this.#etcd },
    );
  }

  /**
   * Stops etcd (`SIGKILL`, a crash; `SIGTERM`, a clean stop), keeps it down for `downMs`, and
   * starts it again on its ports and data (the page cache keeps what `--unsafe-no-fsync` did not
   * sync: only a host crash would lose it). The API server runs on and reconnects by itself.
   * Resolves once etcd is healthy again, with the ms that took.
   */
  async restartEtcd(
    options: { readonly signal?: 'SIGKILL' | 'SIGTERM'; readonly downMs?: number } = {},
  ): Promise<number> {
    if (options.signal === 'SIGKILL') await this.#etcd?.kill();
    else await this.#etcd?.stop(10_000);
    await new Promise(resolve => setTimeout(resolve, options.downMs ?? 0));
    const started = performance.now();
    await this.#spawnEtcd();
    return performance.now() - started;
  }

  /**
   * Stops kube-apiserver (`SIGKILL`, a crash; `SIGTERM`, a rollout), keeps it down for `downMs`,
   * and starts it again with the same flags on the same port, so every client reconnects to the
   * same URL; etcd and the controller manager run on. Resolves once it is ready again.
   */
  async restartApiserver(
    options: { readonly signal?: 'SIGKILL' | 'SIGTERM'; readonly downMs?: number } = {},
  ): Promise<number> {
    if (options.signal === 'SIGKILL') await this.#apiserver?.kill();
    else await this.#apiserver?.stop(10_000);
    await new Promise(resolve => setTimeout(resolve, options.downMs ?? 0));
    return this.#startApiserver(this.#ports.apiserver);
  }

  /** On `port` (a restart), else on a free one. */
  async #startApiserver(port?: number): Promise<number> {
    const started = performance.now();
    const p = this.pki.paths;
    await this.#retryOnPortClash('kube-apiserver', async () => {
      const apiserver = port ?? (await freePort());
      this.#ports = { ...this.#ports, apiserver };
      // The admin client's agent is bound to the old URL.
      this.#admin?.close();
      this.#admin = undefined;
      const extra = this.#options.extraArgs?.apiserver ?? [];
      // The API server takes --authorization-config or --authorization-mode, never both.
      const own = extra.some(arg => arg.startsWith('--authorization-config='));
      const args = [
        'kube-apiserver',
        `--etcd-servers=${this.etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiserver}`,
        `--cert-dir=${join(this.dir, 'apiserver')}`,
        `--tls-cert-file=${p.apiserverCert}`,
        `--tls-private-key-file=${p.apiserverKey}`,
        `--client-ca-file=${p.clusterCaCert}`,
        ...(own ? [] : ['--authorization-mode=Node,RBAC']),
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${p.saPublicKey}`,
        `--service-account-signing-key-file=${p.saPrivateKey}`,
        '--service-cluster-ip-range=10.96.0.0/16',
        // A loopback advertise address fails Endpoints validation in a loop otherwise.
        '--endpoint-reconciler-type=none',
        '--enable-admission-plugins=NodeRestriction',
        '--profiling=false',
        '--v=0',
        ...extra,
      ];
      await this.#apiserver?.stop(2000);
      this.#apiserver = new ManagedProcess('kube-apiserver', this.binary, args, {
        logPath: this.logs.apiserver,
        cwd: this.dir,
      });
      const admin = this.admin;
      await waitUntil(
        'kube-apiserver /readyz',
        async () => ((await admin.request('GET', '/readyz')).status === 200 ? true : undefined),
        { timeoutMs: 120_000, intervalMs: 100, process: this.#apiserver },
      );
    });
    writeKubeconfig(this.adminKubeconfigPath, this.credentials(this.pki.admin), 'admin');
    const ms = performance.now() - started;
    this.log(
      `kube-apiserver: ready on ${this.server} in ${ms.toFixed(0)} ms (admin kubeconfig ${this.adminKubeconfigPath})`,
    );
    return ms;
  }

  async #startControllerManager(canary: boolean): Promise<number> {
    const started = performance.now();
    const p = this.pki.paths;
    const kubeconfig = writeKubeconfig(
      join(this.dir, 'kubeconfigs', 'kube-controller-manager.kubeconfig'),
      this.credentials(this.pki.controllerManager),
      'kube-controller-manager',
    );
    const args = [
      'kube-controller-manager',
      `--kubeconfig=${kubeconfig}`,
      '--controllers=csrsigning',
      `--cluster-signing-kubelet-serving-cert-file=${p.kubeletServingCaCert}`,
      `--cluster-signing-kubelet-serving-key-file=${p.kubeletServingCaKey}`,
      `--cluster-signing-duration=${this.#options.signingDuration ?? '24h'}`,
      '--leader-elect=false',
      '--secure-port=0', // no HTTPS, so no port to allocate and no delegated authn/authz
      `--kube-api-qps=${String(this.#options.kubeApiQps ?? 500)}`,
      `--kube-api-burst=${String(this.#options.kubeApiBurst ?? 1000)}`,
      '--v=1',
      ...(this.#options.extraArgs?.controllerManager ?? []),
    ];
    this.#controllerManager = new ManagedProcess('kube-controller-manager', this.binary, args, {
      logPath: this.logs.controllerManager,
      cwd: this.dir,
    });
    if (canary) await this.#canary();
    const ms = performance.now() - started;
    this.log(
      `kube-controller-manager: ${canary ? 'canary certificate issued' : 'started'} after ${ms.toFixed(0)} ms`,
    );
    return ms;
  }

  /** A kubelet-serving CSR created as a node, approved as admin, issued by KCM, verified. */
  async #canary(): Promise<void> {
    const kubelet = new KubeletEmulator({ nodeName: 'harness-canary', harness: this });
    const csr = await kubelet.createCsr({ expirationSeconds: 600 });
    await this.approve(csr.metadata.name, 'HarnessCanary');
    const kcm = this.#controllerManager;
    try {
      await Promise.race([
        kubelet.waitForCertificate({ timeoutMs: 120_000 }),
        kcm?.exited.then(() => {
          throw new ProcessExitedError(
            `kube-controller-manager exited; log ${kcm.logPath}:\n${kcm.tail()}`,
            kcm,
          );
        }),
      ]);
    } catch (error) {
      if (error instanceof Error && !(error instanceof ProcessExitedError) && kcm) {
        error.message += `\nkube-controller-manager log ${kcm.logPath}:\n${kcm.tail()}`;
      }
      throw error;
    }
    await this.admin.delete(`${CSR_PATH}/${csr.metadata.name}`);
  }

  // ---- teardown ----------------------------------------------------------------------------

  /**
   * Stops KCM, then the apiserver, then etcd (SIGTERM; SIGKILL after `timeoutMs`), closes every
   * client, and deletes the temp dir unless `keepDir` (or STAMPEDE_HARNESS_KEEP=1).
   */
  async stop({ keepDir = false, timeoutMs = 10_000 } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
    this.#admin?.close();
    for (const proc of [this.#controllerManager, this.#apiserver, this.#etcd])
      await proc?.stop(timeoutMs);
    if (keepDir || keepTempDirs()) {
      this.log(`control plane: kept ${this.dir}`);
    } else {
      rmSync(this.dir, { recursive: true, force: true });
    }
    unregisterDir(this.dir);
  }
}

/** Starts etcd, kube-apiserver and kube-controller-manager and runs the canary. */
export function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  return ControlPlane.start(options);
}
