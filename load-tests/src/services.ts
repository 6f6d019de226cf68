// The approver under test as OS processes: the stampede watcher and workers exactly as deployed
// (`node services/*/src/main.ts`, configured by environment variables, authenticated as the
// approver's ServiceAccount), or the direct baseline approver. Each writes its JSON log to a file.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = {
  watcher: join(ROOT, 'services/watcher/src/main.ts'),
  worker: join(ROOT, 'services/worker/src/main.ts'),
  baseline: join(import.meta.dirname, 'baseline/main.ts'),
} as const;

export type ServiceKind = keyof typeof MAIN;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface ServiceProcess {
  readonly name: string;
  readonly kind: ServiceKind;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves with the health port (stampede services) once logged. */
  readonly healthPort: Promise<number>;
  /** Resolves when the process logged that it is ready (baseline) — see waitReady. */
  readonly readyLine: Promise<void>;
  readonly exited: Promise<number | null>;
}

export interface SpawnOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly dir: string;
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
}

/**
 * Starts `node <main>` with stdout and stderr going straight to a log file: not through a pipe to
 * this process, whose reading would otherwise pace the service's synchronous log writes.
 */
export function spawnService(
  kind: ServiceKind,
  name: string,
  options: SpawnOptions,
): ServiceProcess {
  const logPath = join(options.dir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), MAIN[kind]], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...options.env },
      stdio: ['ignore', fd, fd],
      cwd: options.dir,
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
  live.add(child);
  const exited = new Promise<number | null>(done => {
    child.on('exit', code => {
      live.delete(child);
      done(code);
    });
  });
  const healthPort =
    kind === 'baseline'
      ? Promise.resolve(0)
      : watchLog(logPath, exited, text => {
          const match = /"healthPort":(\d+)/.exec(text);
          return match ? Number(match[1]) : undefined;
        });
  const readyLine =
    kind === 'baseline'
      ? watchLog(logPath, exited, text =>
          text.includes('"msg":"baseline ready"') ? true : undefined,
        ).then(() => undefined)
      : Promise.resolve();
  return { name, kind, child, pid: child.pid, logPath, healthPort, readyLine, exited };
}

/** Polls a log file until `find` returns something (or the process exits). */
async function watchLog<T>(
  path: string,
  exited: Promise<unknown>,
  find: (text: string) => T | undefined,
): Promise<T> {
  const state = { gone: false };
  void exited.then(() => {
    state.gone = true;
  });
  for (;;) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      text = ''; // not there yet
    }
    const found = find(text);
    if (found !== undefined) return found;
    if (state.gone) return new Promise<T>(() => undefined); // waitReady reports the exit
    await sleep(50);
  }
}

export function tail(service: ServiceProcess, lines = 30): string {
  try {
    return readFileSync(service.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function orExit<T>(service: ServiceProcess, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    service.exited.then(code => {
      throw new Error(`${service.name} exited (${code}):\n${tail(service)}`);
    }),
  ]);
}

/** Waits until /readyz answers 200 (stampede services) or the ready line (baseline). */
export async function waitReady(service: ServiceProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  if (service.kind === 'baseline') {
    const abort = new AbortController();
    const late = sleep(timeoutMs, undefined, { signal: abort.signal }).then(() => {
      throw new Error(`${service.name} not ready in ${timeoutMs} ms:\n${tail(service)}`);
    });
    late.catch(() => undefined);
    try {
      await orExit(service, Promise.race([service.readyLine, late]));
    } finally {
      abort.abort();
    }
    return;
  }
  const port = await orExit(service, service.healthPort);
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (response?.status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`${service.name} not ready in ${timeoutMs} ms:\n${tail(service)}`);
    if (service.child.exitCode !== null)
      throw new Error(`${service.name} exited:\n${tail(service)}`);
    await sleep(100);
  }
}

/** SIGTERM and wait (SIGKILL after `timeoutMs`). */
export async function stopService(service: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), timeoutMs);
  await service.exited;
  clearTimeout(timer);
}

/** Every JSON line of a service's log (non-JSON lines skipped). */
export function logLines(service: ServiceProcess): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let text: string;
  try {
    text = readFileSync(service.logPath, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial last line
    }
  }
  return out;
}
