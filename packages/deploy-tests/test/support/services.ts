// The watcher and worker as OS processes (`node services/*/src/main.ts`), the way they run in a pod:
// configuration from the environment only, each under its own kubeconfig. Plus a /proc sampler for
// their memory and CPU. Test support for this package's tests and bench.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type ServiceKind = 'watcher' | 'worker' | 'dashboard';

export interface RunningService {
  readonly kind: ServiceKind;
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr so far (bounded). */
  output(): string;
  readonly healthPort: Promise<number>;
  readonly exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `node <root>/services/<kind>/src/main.ts` with exactly `env` (plus PATH and HOME). */
export function startService(
  root: string,
  kind: ServiceKind,
  env: Readonly<Record<string, string>>,
): RunningService {
  const child = spawn(process.execPath, [join(root, 'services', kind, 'src', 'main.ts')], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let text = '';
  let resolvePort: (port: number) => void = () => undefined;
  const healthPort = new Promise<number>(resolve => (resolvePort = resolve));
  const append = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    const match = /"healthPort":(\d+)/.exec(text);
    if (match) resolvePort(Number(match[1]));
    if (text.length > 262_144) text = text.slice(-131_072);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<number | null>(resolve => {
    child.on('exit', code => {
      live.delete(child);
      resolve(code);
    });
  });
  return {
    kind,
    child,
    pid: child.pid ?? -1,
    output: () => text,
    healthPort,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Resolves when /readyz answers 200; rejects if the process exits or the deadline passes. */
export async function waitReady(service: RunningService, timeoutMs = 60_000): Promise<void> {
  const exitedEarly = service.exited.then(code => {
    throw new Error(`${service.kind} exited (${code}) before it was ready:\n${service.output()}`);
  });
  const port = await Promise.race([service.healthPort, exitedEarly]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (response?.status === 200) return;
    if (service.child.exitCode !== null) await exitedEarly;
    if (Date.now() > deadline)
      throw new Error(`${service.kind} not ready after ${timeoutMs} ms:\n${service.output()}`);
    await sleep(100);
  }
}

export interface ProcessSample {
  /** Resident set size, bytes. */
  readonly rss: number;
  /** Peak resident set size so far (VmHWM), bytes. */
  readonly peakRss: number;
  /** user + system CPU time so far, seconds. */
  readonly cpuSeconds: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** One /proc reading of a live process. */
export function sampleProcess(pid: number): ProcessSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  };
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return {
    rss: kib('VmRSS'),
    peakRss: kib('VmHWM'),
    cpuSeconds: (utime + stime) / TICKS_PER_SECOND,
  };
}

/**
 * The environment variables a service documents in `--help` (its configuration contract), or
 * undefined when the service does not exist yet. OpenTelemetry's standard OTEL_* variables are read
 * by the SDK, not listed there.
 */
export function documentedVariables(root: string, service: string): Set<string> | undefined {
  const main = join(root, 'services', service, 'src', 'main.ts');
  if (!existsSync(main)) return undefined;
  const help = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8' });
  if (help.status !== 0) throw new Error(`${service} --help: exit ${help.status}\n${help.stderr}`);
  const names = [...help.stdout.matchAll(/^ {2}([A-Z][A-Z0-9_]+)\s/gm)].map(m => m[1] ?? '');
  return new Set(names);
}

/** True for a variable a service may be given: documented, Node's own, or OpenTelemetry's. */
export const isKnownVariable = (documented: ReadonlySet<string>, name: string): boolean =>
  documented.has(name) || name === 'NODE_OPTIONS' || name.startsWith('OTEL_');
