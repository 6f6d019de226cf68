// Where the load goes: the harness control plane (default: real etcd, kube-apiserver and KCM
// started here, node identities as client certificates from the cluster CA), or any cluster given a
// kubeconfig (nothing is started; kubelets are simulated by impersonating system:node:<name>).
import { readFileSync } from 'node:fs';
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KubeClient, startControlPlane } from '@stampede/harness';
import type { ControlPlane, KubeCredentials, KubeletHarness } from '@stampede/harness';
import { median } from './stats.ts';

export interface ApproverKubeconfigs {
  readonly watcher: string;
  readonly worker: string;
  readonly baseline: string;
}

export interface Target {
  readonly kind: 'harness' | 'kubeconfig';
  readonly server: string;
  /** APF-exempt admin (system:masters): creates Nodes, watches every CSR, reads /metrics. */
  readonly admin: KubeClient;
  /** Node identities for the simulated kubelets. */
  readonly kubelets: KubeletHarness;
  /**
   * Kubeconfigs of the approver's identities (harness only: elsewhere the approver runs already):
   * the watcher's and the worker's own ServiceAccounts, bound by deploy/base/rbac as deployed, and
   * one with both roles for the baseline, which does the work of both in one process.
   */
  approverKubeconfigs(): Promise<ApproverKubeconfigs>;
  readonly pids: { readonly apiserver?: number; readonly etcd?: number; readonly kcm?: number };
  readonly controlPlane?: ControlPlane;
  /** Median round trip of a GET /version, ms: direct, and the way the approvers connect. */
  roundTrips?(): Promise<{ readonly directMs: number; readonly approverMs: number }>;
  stop(): Promise<void>;
}

const DELAY_PROXY_MAIN = fileURLToPath(new URL('./delay-proxy-main.ts', import.meta.url));

/** delay-proxy-main.ts as a child process, once it printed its port. */
async function startDelayProxy(
  upstreamPort: number,
  ms: number,
): Promise<{ readonly child: ChildProcess; readonly port: number }> {
  const child = spawn(process.execPath, [DELAY_PROXY_MAIN, String(upstreamPort), String(ms)], {
    // stdin open: the proxy exits when this process is gone, however it ended.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    lines.close();
    return { child, port: Number(line) };
  }
  throw new Error('delay proxy: exited before printing its port');
}

async function medianRoundTripMs(client: KubeClient, count = 51): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await client.get('/version');
    times.push(performance.now() - t);
  }
  return median(times);
}

export interface HarnessTargetOptions {
  readonly apiserverProfiling?: boolean;
  /**
   * The latency-bound profile: etcd fsyncs every commit (the harness default skips fsync), and the
   * approvers reach the API server through a loopback proxy that holds each chunk this long in
   * each direction, as a control plane a network hop away. Kubelets and KCM connect directly.
   */
  readonly etcdFsync?: boolean;
  readonly approverLatencyMs?: number;
}

export async function harnessTarget(options: HarnessTargetOptions = {}): Promise<Target> {
  // The KCM signer's client limit is raised by the harness (500/1000): with the defaults of 20/30 it
  // would issue ~20 certificates/s whatever the approver does (KCM's client rate limit).
  const cp = await startControlPlane({
    extraArgs: {
      apiserver: options.apiserverProfiling === true ? ['--profiling=true'] : [],
      // Appended after the harness's --unsafe-no-fsync, so it wins.
      etcd: options.etcdFsync === true ? ['--unsafe-no-fsync=false'] : [],
    },
  });
  const latencyMs = options.approverLatencyMs ?? 0;
  const proxy =
    latencyMs > 0 ? await startDelayProxy(Number(new URL(cp.server).port), latencyMs) : undefined;
  const approverServer = proxy === undefined ? cp.server : `https://127.0.0.1:${proxy.port}`;
  const kubeconfig = (name: string, token: string): string =>
    cp.writeKubeconfig(`approver-${name}`, {
      ...cp.credentials({ token }),
      server: approverServer,
    });
  return {
    kind: 'harness',
    server: cp.server,
    admin: cp.admin,
    kubelets: cp,
    approverKubeconfigs: async () => ({
      watcher: kubeconfig('watcher', await cp.serviceToken('watcher')),
      worker: kubeconfig('worker', await cp.serviceToken('worker')),
      baseline: kubeconfig('baseline', await cp.approverToken()),
    }),
    pids: {
      ...(cp.pids.apiserver === undefined ? {} : { apiserver: cp.pids.apiserver }),
      ...(cp.pids.etcd === undefined ? {} : { etcd: cp.pids.etcd }),
      ...(cp.pids.controllerManager === undefined ? {} : { kcm: cp.pids.controllerManager }),
    },
    controlPlane: cp,
    roundTrips: async () => {
      const admin = cp.credentials(cp.pki.admin);
      const viaApprover = cp.client({ ...admin, server: approverServer }, { maxSockets: 1 });
      const direct = cp.client(admin, { maxSockets: 1 });
      return {
        directMs: await medianRoundTripMs(direct),
        approverMs: await medianRoundTripMs(viaApprover),
      };
    },
    stop: async () => {
      proxy?.child.kill('SIGTERM');
      await cp.stop();
    },
  };
}

async function credentialsFrom(kc: KubeConfig): Promise<KubeCredentials> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('kubeconfig: no current cluster');
  const options: HttpsRequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const text = (value: unknown): string | undefined =>
    value === undefined || value === null
      ? undefined
      : Buffer.isBuffer(value)
        ? value.toString('utf8')
        : typeof value === 'string'
          ? value
          : undefined;
  const headers = (options.headers ?? {}) as Record<string, string>;
  const authorization = headers['Authorization'] ?? headers['authorization'];
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
  const caPem = text(options.ca);
  if (caPem === undefined)
    throw new Error('kubeconfig: the cluster needs a CA (certificate-authority)');
  const certPem = text(options.cert);
  const keyPem = text(options.key);
  return {
    server: cluster.server,
    caPem,
    ...(certPem === undefined ? {} : { certPem }),
    ...(keyPem === undefined ? {} : { keyPem }),
    ...(token === undefined ? {} : { token }),
  };
}

/**
 * A cluster from a kubeconfig whose user may create Nodes, watch CSRs, read /metrics and
 * impersonate nodes (cluster-admin). `servingCaFile` is the CA kubelet-serving certificates chain
 * to (default: the kubeconfig's cluster CA, which is what KCM signs with unless configured otherwise).
 */
export async function kubeconfigTarget(path: string, servingCaFile?: string): Promise<Target> {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const credentials = await credentialsFrom(kc);
  const admin = new KubeClient(credentials, { maxSockets: 64 });
  const servingCa =
    servingCaFile === undefined ? credentials.caPem : readFileSync(servingCaFile, 'utf8');
  const clients: KubeClient[] = [admin];
  const byNode = new Map<string, KubeClient>();
  // The kubeconfig's own credentials, with impersonation headers naming the node (NodeRestriction
  // and the Node authorizer see system:node:<name>); a small pool per node, as a kubelet has.
  const kubelets: KubeletHarness = {
    kubeletServingCaPem: servingCa,
    nodeClient(nodeName) {
      const cached = byNode.get(nodeName);
      if (cached !== undefined) return cached;
      const client = new KubeClient(
        {
          ...credentials,
          headers: {
            'Impersonate-User': `system:node:${nodeName}`,
            'Impersonate-Group': 'system:nodes',
          },
        },
        { maxSockets: 2 },
      );
      clients.push(client);
      byNode.set(nodeName, client);
      return client;
    },
  };
  return {
    kind: 'kubeconfig',
    server: credentials.server,
    admin,
    kubelets,
    approverKubeconfigs: () => {
      throw new Error('against a kubeconfig cluster the approver must already be running');
    },
    pids: {},
    stop: () => {
      for (const client of clients) client.close();
      return Promise.resolve();
    },
  };
}
