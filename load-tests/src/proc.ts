// CPU time and memory of a process from /proc (Linux): utime + stime of every thread, current and
// peak resident set size. Read before and after a run; the difference is the run's cost.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcSample {
  readonly pid: number;
  /** User + system CPU seconds since the process started. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  /** VmHWM: the peak resident set size since the process started. */
  readonly peakRssBytes: number;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** utime + stime in seconds from the text of /proc/<pid>/stat (the comm field may hold spaces). */
export function parseStatCpuSeconds(stat: string, ticks: number): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / ticks;
}

/** A `VmXxx:   1234 kB` line of /proc/<pid>/status, in bytes (0 when absent). */
export function statusBytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** The process's counters now, or undefined when it is gone. */
export function sampleProcess(pid: number | undefined): ProcSample | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      pid,
      cpuSeconds: parseStatCpuSeconds(stat, clockTicks()),
      rssBytes: statusBytes(status, 'VmRSS'),
      peakRssBytes: statusBytes(status, 'VmHWM'),
    };
  } catch {
    return undefined;
  }
}

/** This process (the load generator) through process.cpuUsage, on the same scale. */
export function sampleSelf(): ProcSample {
  const usage = process.cpuUsage();
  const memory = process.memoryUsage();
  return {
    pid: process.pid,
    cpuSeconds: (usage.user + usage.system) / 1e6,
    rssBytes: memory.rss,
    peakRssBytes: sampleProcess(process.pid)?.peakRssBytes ?? memory.rss,
  };
}

/** Whole-machine CPU seconds (all cores, busy time) from /proc/stat, to see how saturated it was. */
export function machineBusySeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  return { busy: (total - idle) / clockTicks(), total: total / clockTicks() };
}
