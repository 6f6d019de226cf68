// A private redis-server for one test file: loopback, free port, AOF with fsync on every write
// (so a SIGKILL loses nothing that was acknowledged), no RDB snapshots, and no eviction (BullMQ
// requires noeviction).
import { join } from 'node:path';
import { ManagedProcess, ProcessExitedError, waitUntil } from './process.ts';
import { redisCommand, type RespValue } from './resp.ts';
import {
  freePort,
  isAddressInUse,
  removeTempDir,
  makeTempDir,
  stderrLogger,
  type Logger,
} from './util.ts';

export interface RedisOptions {
  /** Default: `redis-server` from PATH. */
  readonly binary?: string;
  /** Progress lines; default stderr. */
  readonly log?: Logger;
  /** Extra `--name value` pairs, e.g. ['--maxmemory', '64mb']. */
  readonly extraArgs?: readonly string[];
}

export class RedisServer {
  readonly host = '127.0.0.1';
  readonly dir: string;
  readonly #binary: string;
  readonly #log: Logger;
  readonly #extraArgs: readonly string[];
  #port = 0;
  #proc: ManagedProcess | undefined;
  #removed = false;

  constructor(options: RedisOptions = {}) {
    this.#binary = options.binary ?? 'redis-server';
    this.#log = options.log ?? stderrLogger;
    this.#extraArgs = options.extraArgs ?? [];
    this.dir = makeTempDir('redis');
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `redis://${this.host}:${this.#port}`;
  }

  /** The current redis-server pid (changes on restart), or undefined while it is down. */
  get pid(): number | undefined {
    return this.#proc?.running === true ? this.#proc.pid : undefined;
  }

  get running(): boolean {
    return this.#proc?.running === true;
  }

  get logPath(): string {
    return join(this.dir, 'redis.log');
  }

  /** Starts redis-server; keeps the port it had before, so clients can reconnect to the same URL. */
  async start(): Promise<void> {
    if (this.running) return;
    if (this.#removed) throw new Error('redis: already stopped for good');
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const firstStart = this.#port === 0;
      if (firstStart) this.#port = await freePort();
      try {
        await this.#spawnAndWait();
        break;
      } catch (error) {
        const clash = error instanceof ProcessExitedError && isAddressInUse(error.process.tail());
        if (!clash || attempt >= 5) throw error;
        // On a restart another process took our port; a new one is better than failing.
        this.#log(`redis: port ${this.#port} taken, retrying on another`);
        this.#port = 0;
      }
    }
    this.#log(`redis: ready at ${this.url} in ${Math.round(performance.now() - started)} ms`);
  }

  async #spawnAndWait(): Promise<void> {
    const args = [
      '--bind', this.host,
      '--port', String(this.#port),
      '--dir', this.dir,
      '--daemonize', 'no',
      '--appendonly', 'yes',
      '--appendfsync', 'always',
      '--save', '',
      '--maxmemory-policy', 'noeviction',
      '--logfile', '', // stdout, which ManagedProcess sends to the log file
      ...this.#extraArgs,
    ]; // prettier-ignore
    const proc = new ManagedProcess('redis-server', this.#binary, args, {
      logPath: this.logPath,
      cwd: this.dir,
    });
    this.#proc = proc;
    await waitUntil(
      'redis PING',
      async () => ((await this.command('PING')) === 'PONG' ? true : undefined),
      {
        timeoutMs: 15_000,
        intervalMs: 25,
        process: proc,
      },
    );
  }

  /** Sends one command over a fresh connection. */
  command(...args: string[]): Promise<RespValue> {
    return redisCommand(this.#port, args);
  }

  /** FLUSHALL: every key is gone (and the AOF records it). */
  async flush(): Promise<void> {
    await this.command('FLUSHALL');
  }

  /** SIGTERM (redis fsyncs and exits cleanly), then start again on the same port and dir. */
  async restart(): Promise<void> {
    await this.#proc?.stop();
    await this.start();
  }

  /** SIGKILL: a crash. Acknowledged writes survive in the AOF; call start() to bring it back. */
  async kill(): Promise<void> {
    await this.#proc?.kill();
  }

  /** Stops redis-server and deletes its directory (unless STAMPEDE_HARNESS_KEEP=1). */
  async stop(): Promise<void> {
    await this.#proc?.stop();
    this.#removed = true;
    removeTempDir(this.dir);
  }
}

/** Starts a private redis-server; `await using` or `stop()` tears it down. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const redis = new RedisServer(options);
  try {
    await redis.start();
  } catch (error) {
    await redis.stop();
    throw error;
  }
  return redis;
}
