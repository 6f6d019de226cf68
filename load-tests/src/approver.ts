// Starts and stops the system under test for one scenario: a fresh Redis, one stampede watcher and
// N workers (as deployed, each under its own ServiceAccount), or the direct baseline, or nothing
// (an approver already running in the target cluster).
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifests, repoRoot, startRedis } from '@stampede/harness';
import type { RedisServer } from '@stampede/harness';
import { RedisProbe } from './redis-stats.ts';
import { logLines, spawnService, stopService, waitReady } from './services.ts';
import type { ServiceProcess } from './services.ts';
import type { ApproverKubeconfigs } from './target.ts';

export type ApproverSpec =
  | {
      readonly kind: 'stampede';
      readonly workers: number;
      /** This scenario's own worker settings (e.g. EVENTS), over the run's. */
      readonly workerEnv?: Readonly<Record<string, string>>;
      /** Jobs in flight per worker (CONCURRENCY). */
      readonly concurrency: number;
      /** Run the watcher and workers under `node --cpu-prof`. */
      readonly profile?: boolean;
    }
  | { readonly kind: 'baseline'; readonly concurrency: number; readonly profile?: boolean }
  | { readonly kind: 'external' };

interface Container {
  readonly env?: readonly { readonly name: string; readonly value?: string }[];
}

/**
 * NODE_OPTIONS as deploy/base sets it for the service (its V8 heap cap), so a run shows whether
 * the shipped cap carries the fleet: an uncapped process would only grow.
 */
export function shippedNodeOptions(service: 'watcher' | 'worker'): string {
  const path = join(repoRoot(), 'deploy/base', `${service}.yaml`);
  for (const manifest of parseManifests(readFileSync(path, 'utf8'))) {
    const spec = manifest as { spec?: { template?: { spec?: { containers?: Container[] } } } };
    for (const container of spec.spec?.template?.spec?.containers ?? []) {
      const value = container.env?.find(e => e.name === 'NODE_OPTIONS')?.value;
      if (value !== undefined) return value;
    }
  }
  throw new Error(`${path}: no NODE_OPTIONS`);
}

export interface ApproverOptions {
  readonly dir: string;
  readonly scenario: string;
  /** Each process runs as its own identity, as deployed. */
  readonly kubeconfigs: ApproverKubeconfigs | undefined;
  readonly log: (line: string) => void;
  /** Extra worker environment (e.g. KUBE_MAX_CONNECTIONS). */
  readonly workerEnv?: Readonly<Record<string, string>>;
}

/** Client counters a stampede worker or the baseline logs when it stops. */
export interface ClientStats {
  readonly requests: number;
  readonly connections: number;
  readonly tlsHandshakes: number;
}

export class RunningApprover {
  readonly spec: ApproverSpec;
  readonly redis: RedisServer | undefined;
  readonly probe: RedisProbe | undefined;
  readonly watcher: ServiceProcess | undefined;
  readonly workers: ServiceProcess[] = [];
  readonly baseline: ServiceProcess | undefined;
  /** Redis used_memory when empty, and once the watcher synced the Node address index. */
  readonly redisEmptyBytes: number;
  redisIndexedBytes = Number.NaN;
  readonly #options: ApproverOptions;

  private constructor(
    spec: ApproverSpec,
    options: ApproverOptions,
    parts: {
      redis?: RedisServer;
      probe?: RedisProbe;
      watcher?: ServiceProcess;
      baseline?: ServiceProcess;
      empty?: number;
    },
  ) {
    this.spec = spec;
    this.#options = options;
    this.redis = parts.redis;
    this.probe = parts.probe;
    this.watcher = parts.watcher;
    this.baseline = parts.baseline;
    this.redisEmptyBytes = parts.empty ?? Number.NaN;
  }

  /** Starts Redis and the watcher (stampede) or the baseline; workers come with startWorkers(). */
  static async start(spec: ApproverSpec, options: ApproverOptions): Promise<RunningApprover> {
    if (spec.kind === 'external') return new RunningApprover(spec, options, {});
    const kubeconfigs = options.kubeconfigs;
    if (kubeconfigs === undefined) throw new Error('the approver needs kubeconfigs');
    if (spec.kind === 'baseline') {
      const baseline = spawnService('baseline', `${options.scenario}-baseline`, {
        env: {
          KUBECONFIG_PATH: kubeconfigs.baseline,
          LOG_LEVEL: 'info',
          POD_NAME: `${options.scenario}-baseline`,
          CONCURRENCY: String(spec.concurrency),
        },
        dir: options.dir,
        nodeArgs: profileArgs(spec.profile, options, 'baseline'),
      });
      await waitReady(baseline);
      return new RunningApprover(spec, options, { baseline });
    }
    const redis = await startRedis({
      // As the shipped redis.conf: AOF with fsync once a second (not the tests' fsync-always), and
      // job hashes kept in the compact listpack encoding.
      extraArgs: ['--appendfsync', 'everysec', '--hash-max-listpack-value', '1024'],
      log: options.log,
    });
    const probe = new RedisProbe(redis.url);
    const empty = (await probe.memory()).used;
    const watcher = spawnService('watcher', `${options.scenario}-watcher`, {
      env: {
        KUBECONFIG_PATH: kubeconfigs.watcher,
        LOG_LEVEL: 'info',
        REDIS_URL: redis.url,
        HEALTH_PORT: '0',
        HEALTH_HOST: '127.0.0.1',
        POD_NAME: `${options.scenario}-watcher`,
        NODE_OPTIONS: shippedNodeOptions('watcher'),
      },
      dir: options.dir,
      nodeArgs: profileArgs(spec.profile, options, 'watcher'),
    });
    const running = new RunningApprover(spec, options, { redis, probe, watcher, empty });
    await waitReady(watcher);
    running.redisIndexedBytes = (await probe.memory()).used;
    return running;
  }

  async startWorkers(): Promise<void> {
    const spec = this.spec;
    if (spec.kind !== 'stampede' || this.redis === undefined) return;
    const kubeconfig = this.#options.kubeconfigs?.worker ?? '';
    const started = Array.from({ length: spec.workers }, (_, i) => {
      const name = `${this.#options.scenario}-worker-${i + 1}`;
      return spawnService('worker', name, {
        env: {
          KUBECONFIG_PATH: kubeconfig,
          LOG_LEVEL: 'info',
          REDIS_URL: this.redis?.url ?? '',
          HEALTH_PORT: '0',
          HEALTH_HOST: '127.0.0.1',
          POD_NAME: name,
          NODE_OPTIONS: shippedNodeOptions('worker'),
          CONCURRENCY: String(spec.concurrency),
          // The default (20 jobs/s across all workers) protects a shared API server; the benchmark
          // measures what the approver can do, so it is off here.
          RATE_LIMIT_JOBS_PER_SECOND: '0',
          ...this.#options.workerEnv,
          ...spec.workerEnv,
        },
        dir: this.#options.dir,
        nodeArgs: profileArgs(spec.profile, this.#options, `worker-${i + 1}`),
      });
    });
    this.workers.push(...started);
    await Promise.all(started.map(worker => waitReady(worker)));
  }

  /** Every process of the approver, by component, for CPU and memory. */
  components(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    if (this.watcher) out['watcher'] = [this.watcher.pid];
    if (this.workers.length > 0) out['workers'] = this.workers.map(w => w.pid);
    if (this.redis?.pid !== undefined) out['redis'] = [this.redis.pid];
    if (this.baseline) out['baseline'] = [this.baseline.pid];
    return out;
  }

  /** SIGTERM everything (workers first, so they finish and log their client counters). */
  async stop(): Promise<{ clients: Record<string, ClientStats> }> {
    await Promise.all(this.workers.map(worker => stopService(worker)));
    if (this.watcher) await stopService(this.watcher);
    if (this.baseline) await stopService(this.baseline);
    const clients: Record<string, ClientStats> = {};
    for (const service of [...this.workers, ...(this.baseline ? [this.baseline] : [])]) {
      const closed = logLines(service).find(
        l => l['msg'] === 'worker closed' || l['msg'] === 'baseline closed',
      );
      const kube = closed?.['kube'] as ClientStats | undefined;
      if (kube !== undefined) clients[service.name] = kube;
    }
    return { clients };
  }

  async closeRedis(): Promise<void> {
    await this.probe?.close();
    await this.redis?.stop();
  }

  /** .cpuprofile files written by the processes that ran with --cpu-prof. */
  profiles(): string[] {
    const dir = join(this.#options.dir, 'profiles', this.#options.scenario);
    try {
      return readdirSync(dir, { recursive: true })
        .map(String)
        .filter(f => f.endsWith('.cpuprofile'))
        .map(f => join(dir, f));
    } catch {
      return [];
    }
  }
}

function profileArgs(
  profile: boolean | undefined,
  options: ApproverOptions,
  name: string,
): string[] {
  if (profile !== true) return [];
  const dir = join(options.dir, 'profiles', options.scenario, name);
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}
