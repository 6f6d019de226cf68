// The file format shared by the parent (./teardown.ts) and the detached reaper (./reaper-main.ts).
import { readFileSync } from 'node:fs';

export interface Registry {
  /** Process-group ids (= the group leader's pid) to SIGKILL. */
  readonly pgids: readonly number[];
  /** Single processes (not group leaders) to SIGKILL. */
  readonly pids: readonly number[];
  /** Temporary directories to delete afterwards. */
  readonly dirs: readonly string[];
  /** Extra addresses on `lo` to remove (`ip addr del <prefix> dev lo`), e.g. `10.66.0.1/32`. */
  readonly addresses: readonly string[];
}

// Only a host prefix reaches `ip`: the reaper runs as root and must never be talked into more.
const HOST_PREFIX = /^(?:\d{1,3}(?:\.\d{1,3}){3}\/32|[0-9a-f:]+\/128)$/i;

export function parseRegistry(text: string): Registry {
  if (text.trim() === '') return { pgids: [], pids: [], dirs: [], addresses: [] };
  const raw = JSON.parse(text) as Partial<Registry>;
  return {
    pgids: (raw.pgids ?? []).filter(p => Number.isInteger(p) && p > 1),
    pids: (raw.pids ?? []).filter(p => Number.isInteger(p) && p > 1),
    dirs: (raw.dirs ?? []).filter(d => typeof d === 'string' && d.length > 1),
    addresses: (raw.addresses ?? []).filter(a => typeof a === 'string' && HOST_PREFIX.test(a)),
  };
}

/**
 * Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or '' if the process is
 * gone. The command name (field 2) may contain spaces and parentheses, so split after the last ')'.
 */
export function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); a zombie is as good as gone.
    if (fields[0] === 'Z') return '';
    return fields[19] ?? '';
  } catch {
    return '';
  }
}
