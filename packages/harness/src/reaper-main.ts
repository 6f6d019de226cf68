// The detached reaper: `node reaper-main.ts <parentPid> <parentStartTime> <registryFile>`.
//
// It lives in its own session, so a SIGKILL of the test runner (or of its process group) leaves it
// running. Every 200 ms it checks that its parent is still the same process; once the parent is
// gone it SIGKILLs every process group listed in the registry file, removes the listed extra
// loopback addresses and deletes the listed directories. The parent rewrites that file whenever it
// starts or stops a child, and deletes it (and SIGTERMs us) when it has torn everything down itself.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { parseRegistry, processStartTime } from './reaper-registry.ts';

const [parentArg, startArg, registryFile] = process.argv.slice(2);
const parentPid = Number(parentArg);
const parentStart = startArg ?? '';
if (!Number.isInteger(parentPid) || registryFile === undefined) process.exit(2);

function parentAlive(): boolean {
  // A reused pid has a different start time, so pid + start time identifies our parent.
  return processStartTime(parentPid) === parentStart;
}

function reap(): void {
  let text = '';
  try {
    text = readFileSync(registryFile ?? '', 'utf8');
  } catch {
    // No registry: the parent never started anything, or already cleaned up.
  }
  const registry = parseRegistry(text);
  for (const pgid of registry.pgids) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
  }
  for (const pid of registry.pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ESRCH: already gone.
    }
  }
  // Addresses after the processes (nothing uses them any more), before the dirs.
  for (const prefix of registry.addresses)
    spawnSync('ip', ['addr', 'del', prefix, 'dev', 'lo'], { stdio: 'ignore' });
  for (const dir of registry.dirs) rmSync(dir, { recursive: true, force: true });
  rmSync(registryFile ?? '', { force: true });
}

process.on('SIGTERM', () => process.exit(0));
setInterval(() => {
  if (parentAlive()) return;
  reap();
  process.exit(0);
}, 200);
