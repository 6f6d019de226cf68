// One child process in its own process group, with its output in a log file.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { registerGroup, unregisterGroup } from './teardown.ts';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  readonly logPath: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves when the group leader exits (never rejects). */
  readonly exited: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;

  constructor(name: string, command: string, args: readonly string[], options: SpawnOptions) {
    this.name = name;
    this.logPath = options.logPath;
    const log = openSync(options.logPath, 'a');
    try {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true, // setsid(): its own process group, pgid = pid
        stdio: ['ignore', log, log],
      });
      if (child.pid === undefined) throw new Error(`${name}: spawn ${command} failed`);
      this.pid = child.pid;
      registerGroup(child.pid);
      this.exited = new Promise(resolve => {
        child.once('exit', (code, signal) => {
          this.#exit = { code, signal };
          resolve(this.#exit);
        });
        child.once('error', () => {
          this.#exit = { code: -1, signal: null };
          resolve(this.#exit);
        });
      });
      // Tests must be able to finish while a child is still running: the handle is stopped
      // explicitly (or by the hooks), never waited for by the event loop.
      child.unref();
    } finally {
      closeSync(log);
    }
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** The last `lines` lines of the log, for error messages. */
  tail(lines = 40): string {
    try {
      const text = readFileSync(this.logPath, 'utf8');
      return text
        .split('\n')
        .slice(-lines - 1)
        .join('\n');
    } catch {
      return '';
    }
  }

  #signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: the whole group is gone.
    }
  }

  /** SIGTERM the group, SIGKILL it after `timeoutMs`, and wait for the leader to exit. */
  async stop(timeoutMs = 10_000): Promise<ExitInfo> {
    if (this.running) {
      this.#signalGroup('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>(resolve => {
        timer = setTimeout(() => {
          resolve('timeout');
        }, timeoutMs);
      });
      const result = await Promise.race([this.exited, timedOut]);
      clearTimeout(timer);
      if (result === 'timeout') this.#signalGroup('SIGKILL');
    }
    const exit = await this.exited;
    // Anything the leader forked and left behind in its group goes too.
    this.#signalGroup('SIGKILL');
    unregisterGroup(this.pid);
    return exit;
  }

  /** SIGKILL the group now (a crash, for fault tests) and wait for the leader to be reaped. */
  async kill(): Promise<ExitInfo> {
    this.#signalGroup('SIGKILL');
    // The child handle is unref'd, so a pending 'exit' alone would let the event loop end early.
    const keepAlive = setInterval(() => undefined, 1000);
    const exit = await this.exited.finally(() => {
      clearInterval(keepAlive);
    });
    unregisterGroup(this.pid);
    return exit;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value, the process exits, or the deadline passes. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; process?: ManagedProcess },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const proc = options.process;
    if (proc && !proc.running) {
      const exit = proc.exitInfo;
      throw new ProcessExitedError(
        `${proc.name} exited (code ${String(exit?.code)}, signal ${String(exit?.signal)}) while waiting for ${what}; log ${proc.logPath}:\n${proc.tail()}`,
        proc,
      );
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      const log = proc ? `; log ${proc.logPath}:\n${proc.tail()}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${detail}${log}`);
    }
    await delay(options.intervalMs ?? 100);
  }
}

export class ProcessExitedError extends Error {
  readonly process: ManagedProcess;
  constructor(message: string, proc: ManagedProcess) {
    super(message);
    this.name = 'ProcessExitedError';
    this.process = proc;
  }
}
