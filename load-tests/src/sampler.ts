// Samples the CPU of every component once per interval during a run, so the report can show where
// the two cores went over time (and whether the machine, the API server or the approver saturated).
import { machineBusySeconds, sampleProcess, sampleSelf } from './proc.ts';
import type { ProcSample } from './proc.ts';

/** Component name → pids (several workers are one component). */
export type Components = Readonly<Record<string, readonly number[]>>;

export interface CpuSeries {
  readonly intervalMs: number;
  /** Component → cores used in each interval (1.0 = one core busy). */
  readonly cores: Readonly<Record<string, number[]>>;
}

export function sumSamples(components: Components): Record<string, ProcSample | undefined> {
  const out: Record<string, ProcSample | undefined> = {};
  for (const [name, pids] of Object.entries(components)) {
    let cpu = 0;
    let rss = 0;
    let peak = 0;
    let any = false;
    for (const pid of pids) {
      const sample = pid === process.pid ? sampleSelf() : sampleProcess(pid);
      if (sample === undefined) continue;
      any = true;
      cpu += sample.cpuSeconds;
      rss += sample.rssBytes;
      peak += sample.peakRssBytes;
    }
    out[name] = any
      ? { pid: pids[0] ?? 0, cpuSeconds: cpu, rssBytes: rss, peakRssBytes: peak }
      : undefined;
  }
  return out;
}

/** Series names beside the components. */
export const MACHINE = 'machine (all processes)';
export const OTHERS = 'other processes (not this benchmark)';

export class CpuSampler {
  readonly #components: Components;
  readonly #intervalMs: number;
  readonly #cores: Record<string, number[]> = {};
  #timer: NodeJS.Timeout | undefined;
  #last: Record<string, ProcSample | undefined> = {};
  #lastMachine = machineBusySeconds();
  #lastAt = performance.now();

  constructor(components: Components, intervalMs = 1_000) {
    this.#components = components;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#last = sumSamples(this.#components);
    this.#lastMachine = machineBusySeconds();
    this.#lastAt = performance.now();
    this.#timer = setInterval(() => {
      this.#tick();
    }, this.#intervalMs);
  }

  #tick(): void {
    const now = performance.now();
    const seconds = (now - this.#lastAt) / 1_000;
    const current = sumSamples(this.#components);
    let ours = 0;
    for (const name of Object.keys(this.#components)) {
      const before = this.#last[name]?.cpuSeconds;
      const after = current[name]?.cpuSeconds;
      const cores = before === undefined || after === undefined ? 0 : (after - before) / seconds;
      ours += cores;
      (this.#cores[name] ??= []).push(cores);
    }
    const machine = machineBusySeconds();
    const busy = (machine.busy - this.#lastMachine.busy) / seconds;
    (this.#cores[OTHERS] ??= []).push(Math.max(0, busy - ours));
    (this.#cores[MACHINE] ??= []).push(busy);
    this.#lastMachine = machine;
    this.#last = current;
    this.#lastAt = now;
  }

  stop(): CpuSeries {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    return { intervalMs: this.#intervalMs, cores: this.#cores };
  }
}
