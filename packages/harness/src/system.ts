// The whole pipeline for end-to-end tests and the demo: a real control plane and Redis, and the
// watcher, workers and dashboard as separate OS processes (`node services/*/src/main.ts`), the
// watcher and workers running as their own ServiceAccounts (stampede-watcher, stampede-worker) with
// deploy/'s RBAC, never as admin. Service processes are registered with the harness reaper, so they
// never outlive the process that started them.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './controlplane.ts';
import type { CertificateSigningRequest } from './csr.ts';
import { repoRoot } from './manifests.ts';
import { startRedis, type RedisOptions, type RedisServer } from './redis.ts';
import { registerProcess, unregisterProcess } from './teardown.ts';

export type ServiceKind = 'watcher' | 'worker' | 'dashboard';

const MAIN: Record<ServiceKind, string> = {
  watcher: join(repoRoot(), 'services/watcher/src/main.ts'),
  worker: join(repoRoot(), 'services/worker/src/main.ts'),
  dashboard: join(repoRoot(), 'services/dashboard/src/main.ts'),
};
const CSR_LIST = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const EVENTS = '/apis/events.k8s.io/v1/namespaces/default/events';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface ServiceProcess {
  readonly name: string;
  readonly kind: ServiceKind;
  readonly child: ChildProcess;
  readonly logPath: string;
  /** The health server's port (the dashboard's own port), once the service logged it. */
  readonly healthPort: Promise<number>;
  readonly exited: Promise<number | null>;
}

export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

function spawnService(
  kind: ServiceKind,
  name: string,
  env: Readonly<Record<string, string>>,
  dir: string,
): ServiceProcess {
  const logPath = join(dir, `${name}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(process.execPath, [MAIN[kind]], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  // The harness reaper kills it too if this process dies by SIGKILL (no 'exit' hook runs then).
  const pid = child.pid;
  if (pid !== undefined) registerProcess(pid);
  let resolvePort: (port: number) => void = () => undefined;
  const healthPort = new Promise<number>(done => (resolvePort = done));
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    log.write(chunk);
    buffered += chunk.toString('utf8');
    const match = /"(?:healthPort|dashboardPort)":(\d+)/.exec(buffered);
    if (match) resolvePort(Number(match[1]));
    if (buffered.length > 65_536) buffered = buffered.slice(-4_096);
  });
  child.stderr.on('data', (chunk: Buffer) => log.write(chunk));
  const exited = new Promise<number | null>(done => {
    child.on('exit', code => {
      live.delete(child);
      if (pid !== undefined) unregisterProcess(pid);
      log.end();
      done(code);
    });
  });
  return { name, kind, child, logPath, healthPort, exited };
}

export interface SystemOptions {
  /** The policy file the workers load (YAML). */
  readonly policy?: string;
  readonly watcherEnv?: Readonly<Record<string, string>>;
  readonly workerEnv?: Readonly<Record<string, string>>;
  /** For the control plane (e.g. a short `signingDuration`, so real kubelets rotate in a test). */
  readonly controlPlane?: ControlPlaneOptions;
  /** For Redis (e.g. `extraArgs` with the shipped persistence settings, for crash tests). */
  readonly redis?: RedisOptions;
}

/** A control plane, Redis, and any number of watcher and worker processes. */
export class System {
  readonly cp: ControlPlane;
  readonly redis: RedisServer;
  readonly dir: string;
  /** Per service: the kubeconfig of its own ServiceAccount, bound by deploy/base/rbac. */
  readonly kubeconfig: { readonly watcher: string; readonly worker: string };
  readonly policyFile: string;
  readonly services: ServiceProcess[] = [];
  readonly #options: SystemOptions;
  #count = 0;

  private constructor(
    cp: ControlPlane,
    redis: RedisServer,
    kubeconfig: { readonly watcher: string; readonly worker: string },
    options: SystemOptions,
  ) {
    this.cp = cp;
    this.redis = redis;
    this.kubeconfig = kubeconfig;
    this.#options = options;
    this.dir = mkdtempSync(join(tmpdir(), 'stampede-e2e-'));
    this.policyFile = join(this.dir, 'policy.yaml');
    writeFileSync(this.policyFile, options.policy ?? '{}\n');
  }

  static async start(options: SystemOptions = {}): Promise<System> {
    const [cp, redis] = await Promise.all([
      startControlPlane(options.controlPlane),
      startRedis(options.redis),
    ]);
    // Each service's own ServiceAccount token, bound by deploy/base/rbac: least privilege, not admin.
    const kubeconfig = {
      watcher: await cp.serviceKubeconfig('watcher'),
      worker: await cp.serviceKubeconfig('worker'),
    };
    return new System(cp, redis, kubeconfig, options);
  }

  #env(kind: ServiceKind, name: string): Record<string, string> {
    if (kind === 'dashboard')
      return { REDIS_URL: this.redis.url, DASHBOARD_PORT: '0', LOG_LEVEL: 'info', POD_NAME: name };
    return {
      REDIS_URL: this.redis.url,
      KUBECONFIG_PATH: this.kubeconfig[kind],
      HEALTH_PORT: '0',
      HEALTH_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      POD_NAME: name,
      ...(kind === 'watcher'
        ? {
            // A quick resync from the watch cache heals a flushed Redis in seconds; the full LIST
            // is left to the tests that want it.
            RESYNC_INTERVAL_SECONDS: '3',
            RELIST_INTERVAL_SECONDS: '3600',
            ...this.#options.watcherEnv,
          }
        : {
            POLICY_FILE: this.policyFile,
            BACKOFF_INITIAL_MS: '200',
            BACKOFF_MAX_MS: '2000',
            LOCK_DURATION_MS: '3000',
            SHUTDOWN_DEADLINE_SECONDS: '5',
            RATE_LIMIT_JOBS_PER_SECOND: '0',
            ...this.#options.workerEnv,
          }),
    };
  }

  /**
   * Starts a watcher, worker or dashboard process and waits until it is ready: /readyz answers 200
   * (the dashboard: its board page does, on loopback without credentials).
   */
  async start(
    kind: ServiceKind,
    env: Readonly<Record<string, string>> = {},
    options: {
      /** How long to wait for /readyz (default 60 s). */
      readonly readyTimeoutMs?: number;
      /** false: return once the process has started its health server, ready or not. */
      readonly waitReady?: boolean;
    } = {},
  ): Promise<ServiceProcess> {
    const name = `${kind}-${++this.#count}`;
    const service = spawnService(kind, name, { ...this.#env(kind, name), ...env }, this.dir);
    this.services.push(service);
    if (options.waitReady === false) {
      await service.healthPort;
      return service;
    }
    await this.ready(service, options.readyTimeoutMs);
    return service;
  }

  async ready(service: ServiceProcess, timeoutMs = 60_000): Promise<void> {
    // A service serves its health port before it has started, and may still exit after that.
    const exited = service.exited.then(code => {
      throw new Error(`${service.name} exited (${code}):\n${this.tail(service)}`);
    });
    const port = await Promise.race([service.healthPort, exited]);
    const path = service.kind === 'dashboard' ? '/' : '/readyz';
    const polled = until(
      `${service.name} ready`,
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
        return response?.status === 200;
      },
      timeoutMs,
    );
    await Promise.race([polled, exited]);
  }

  tail(service: ServiceProcess, lines = 40): string {
    try {
      return readFileSync(service.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM, and wait for the exit. */
  async stop(service: ServiceProcess): Promise<number | null> {
    service.child.kill('SIGTERM');
    return service.exited;
  }

  async kill(service: ServiceProcess): Promise<void> {
    service.child.kill('SIGKILL');
    await service.exited;
  }

  /** Every kubelet-serving CSR, by name. */
  async csrs(): Promise<Map<string, CertificateSigningRequest>> {
    const list = await this.cp.admin.get<{ items: CertificateSigningRequest[] }>(CSR_LIST);
    return new Map(list.items.map(csr => [csr.metadata.name, csr]));
  }

  /** Events written by the approver, grouped by the uid of the CSR they are about. */
  async eventsByCsrUid(): Promise<Map<string, { reason: string; note: string; type: string }[]>> {
    const list = await this.cp.admin.get<{
      items: {
        reason?: string;
        note?: string;
        type?: string;
        reportingController?: string;
        regarding?: { uid?: string; kind?: string };
      }[];
    }>(EVENTS);
    const byUid = new Map<string, { reason: string; note: string; type: string }[]>();
    for (const event of list.items) {
      if (event.regarding?.kind !== 'CertificateSigningRequest') continue;
      const uid = event.regarding.uid ?? '';
      const events = byUid.get(uid) ?? [];
      events.push({ reason: event.reason ?? '', note: event.note ?? '', type: event.type ?? '' });
      byUid.set(uid, events);
    }
    return byUid;
  }

  /** Kills every service and stops the control plane and Redis; `keep` keeps their dirs and logs. */
  async stopAll({ keep = false }: { readonly keep?: boolean } = {}): Promise<void> {
    await Promise.all(
      this.services.map(async service => {
        if (service.child.exitCode === null && service.child.signalCode === null) {
          service.child.kill('SIGKILL');
          await service.exited;
        }
      }),
    );
    await Promise.all([this.redis.stop(), this.cp.stop({ keepDir: keep })]);
    if (!keep && process.env['STAMPEDE_E2E_KEEP'] === undefined)
      rmSync(this.dir, { recursive: true, force: true });
    else process.stderr.write(`e2e logs kept in ${this.dir}\n`);
  }
}

/** The type of the settled condition (Approved, Denied, Failed), or undefined while pending. */
export function settledAs(csr: CertificateSigningRequest | undefined): string | undefined {
  return csr?.status?.conditions?.find(c => ['Approved', 'Denied', 'Failed'].includes(c.type))
    ?.type;
}
