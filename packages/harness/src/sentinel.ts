// A private Redis Sentinel watching one primary, for failover tests: loopback, a free port, quorum 1,
// and short timers (the primary is declared down after 1 s) so a failover takes seconds, not minutes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, waitUntil } from './process.ts';
import { redisCommand } from './resp.ts';
import { freePort, makeTempDir, removeTempDir, stderrLogger, type Logger } from './util.ts';

export interface SentinelOptions {
  /** The primary to monitor, on 127.0.0.1. */
  readonly primaryPort: number;
  /** The name it is monitored under. Default `stampede`. */
  readonly primaryName?: string;
  /** Default: `redis-server` from PATH (run with --sentinel). */
  readonly binary?: string;
  readonly log?: Logger;
}

export class RedisSentinel {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly primaryName: string;
  readonly dir: string;
  readonly #proc: ManagedProcess;

  private constructor(port: number, primaryName: string, dir: string, proc: ManagedProcess) {
    this.port = port;
    this.primaryName = primaryName;
    this.dir = dir;
    this.#proc = proc;
  }

  /** `REDIS_SENTINELS` for the services: `name@host:port`. */
  get spec(): string {
    return `${this.primaryName}@${this.host}:${this.port}`;
  }

  get logPath(): string {
    return join(this.dir, 'sentinel.log');
  }

  static async start(options: SentinelOptions): Promise<RedisSentinel> {
    const log = options.log ?? stderrLogger;
    const name = options.primaryName ?? 'stampede';
    const dir = makeTempDir('sentinel');
    const port = await freePort();
    // Sentinel rewrites its config file as it learns the topology, so it lives in our temp dir.
    const config = join(dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `bind 127.0.0.1`,
        `port ${port}`,
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${options.primaryPort} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 3000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const proc = new ManagedProcess(
      'redis-sentinel',
      options.binary ?? 'redis-server',
      [config, '--sentinel'],
      { logPath: join(dir, 'sentinel.log'), cwd: dir },
    );
    const sentinel = new RedisSentinel(port, name, dir, proc);
    try {
      await waitUntil('sentinel to know its primary', () => sentinel.primaryPort(), {
        timeoutMs: 15_000,
        intervalMs: 50,
        process: proc,
      });
    } catch (error) {
      await sentinel.stop();
      throw error;
    }
    log(`sentinel: ${sentinel.spec} watching 127.0.0.1:${options.primaryPort}`);
    return sentinel;
  }

  /** The port of the primary as Sentinel sees it now (changes on failover). */
  async primaryPort(): Promise<number | undefined> {
    const reply = await redisCommand(this.port, [
      'SENTINEL',
      'get-master-addr-by-name',
      this.primaryName,
    ]);
    return Array.isArray(reply) && typeof reply[1] === 'string' ? Number(reply[1]) : undefined;
  }

  /** How many replicas of the primary Sentinel knows (failover needs one). */
  async replicas(): Promise<number> {
    const reply = await redisCommand(this.port, ['SENTINEL', 'replicas', this.primaryName]);
    return Array.isArray(reply) ? reply.length : 0;
  }

  async stop(): Promise<void> {
    await this.#proc.stop();
    removeTempDir(this.dir);
  }
}
