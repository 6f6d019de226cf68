// Leak-proof teardown. Three layers, because each one alone misses a case:
//  1. `stop()` on each handle: graceful (SIGTERM, then SIGKILL after a timeout), per process group.
//  2. Process hooks ('exit', SIGINT, SIGTERM, SIGHUP): synchronous SIGKILL of every registered
//     group and removal of every registered directory, for a test file that throws or is cancelled.
//  3. A detached reaper (./reaper-main.ts): it outlives a SIGKILLed parent, which runs no hooks.
// Every child runs in its own process group (spawn's `detached`), so killing the group also kills
// whatever the child forked, and a Ctrl-C aimed at the test runner's group does not reach it
// before we do.
import { spawn, spawnSync } from 'node:child_process';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processStartTime } from './reaper-registry.ts';

const groups = new Set<number>();
/** Single processes that are not group leaders (e.g. a service spawned without `detached`). */
const pids = new Set<number>();
const dirs = new Set<string>();
/** Extra addresses on `lo` (./node-ips.ts), as `ip addr` prefixes: 10.66.0.1/32, fd00:66::1/128. */
const addresses = new Set<string>();
const registryFile = join(tmpdir(), `stampede-harness-reaper-${process.pid}.json`);
let reaperPid: number | undefined;
let hooksInstalled = false;

function writeRegistry(): void {
  ensureReaper();
  const tmp = `${registryFile}.tmp`;
  writeFileSync(
    tmp,
    JSON.stringify({
      pgids: [...groups],
      pids: [...pids],
      dirs: [...dirs],
      addresses: [...addresses],
    }),
  );
  renameSync(tmp, registryFile);
}

function ensureReaper(): void {
  installHooks();
  if (reaperPid !== undefined) return;
  const script = fileURLToPath(new URL('./reaper-main.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [script, String(process.pid), processStartTime(process.pid), registryFile],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
  reaperPid = child.pid;
}

/** Kills everything still registered, synchronously: safe inside an 'exit' handler. */
export function killEverythingNow(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // ESRCH: already gone.
    }
  }
  groups.clear();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ESRCH: already gone.
    }
  }
  pids.clear();
  // After the processes: an address is only removed once nothing can be using it.
  for (const prefix of addresses) removeLoopbackAddress(prefix);
  addresses.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
  rmSync(registryFile, { force: true });
  if (reaperPid !== undefined) {
    try {
      process.kill(reaperPid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    reaperPid = undefined;
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killEverythingNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killEverythingNow();
      // If nobody else handles the signal, restore the default action (terminate) and re-raise,
      // so the exit status still says "killed by SIGINT/SIGTERM".
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export function registerGroup(pgid: number): void {
  groups.add(pgid);
  writeRegistry();
}

export function unregisterGroup(pgid: number): void {
  if (groups.delete(pgid)) writeRegistry();
}

/**
 * Public: put a process the caller spawned itself under the harness's protection, so it dies with
 * the caller however the caller ends (stop hooks, signal hooks, and the detached reaper after a
 * SIGKILL). `{ group: true }` kills its whole process group (spawn it with `detached: true`, so
 * its pid is the group id); otherwise only that pid. Unregister once you have stopped it yourself.
 */
export function registerProcess(pid: number, options: { readonly group?: boolean } = {}): void {
  if (!Number.isInteger(pid) || pid <= 1) throw new RangeError(`not a process id: ${pid}`);
  if (options.group === true) groups.add(pid);
  else pids.add(pid);
  writeRegistry();
}

/** Public: the process has been stopped by its owner; the harness forgets it. */
export function unregisterProcess(pid: number): void {
  const removed = groups.delete(pid) || pids.delete(pid);
  if (removed) writeRegistry();
}

/** Synchronous, never throws: safe in an 'exit' handler and in the reaper. */
export function removeLoopbackAddress(prefix: string): void {
  spawnSync('ip', ['addr', 'del', prefix, 'dev', 'lo'], { stdio: 'ignore' });
}

export function registerAddress(prefix: string): void {
  addresses.add(prefix);
  writeRegistry();
}

export function unregisterAddress(prefix: string): void {
  if (addresses.delete(prefix)) writeRegistry();
}

export function registerDir(dir: string): void {
  dirs.add(dir);
  writeRegistry();
}

export function unregisterDir(dir: string): void {
  if (dirs.delete(dir)) writeRegistry();
}

/** For tests: the reaper of this process, if one has been started. */
export function reaperProcessId(): number | undefined {
  return reaperPid;
}
