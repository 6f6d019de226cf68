// Small statistics over latency samples and event times: percentiles, a histogram with log-spaced
// bins, per-second rates and the sustained rate of a storm. Pure functions, no I/O.

export interface Summary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile of sorted values (p in 0…100); NaN for no values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
}

export interface Histogram {
  /** Lower edge of each bin (ms); the last bin is open-ended. */
  readonly edges: readonly number[];
  readonly counts: readonly number[];
}

/** Log-spaced bins from `minMs` doubling by 2^(1/perOctave) up to at least the largest value. */
export function histogram(values: readonly number[], minMs = 1, perOctave = 4): Histogram {
  const max = Math.max(minMs, ...values);
  const edges: number[] = [0];
  for (let edge = minMs; edge <= max; edge *= 2 ** (1 / perOctave))
    edges.push(Math.round(edge * 100) / 100);
  const counts = edges.map(() => 0);
  for (const value of values) {
    let bin = edges.length - 1;
    while (bin > 0 && (edges[bin] ?? 0) > value) bin--;
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return { edges, counts };
}

/** Events per bin of `binMs` from `startMs` (earlier ones left out); same clock as startMs. */
export function ratePerBin(times: readonly number[], startMs: number, binMs = 1_000): number[] {
  const bins: number[] = [];
  for (const time of times) {
    if (time < startMs) continue;
    const bin = Math.floor((time - startMs) / binMs);
    while (bins.length <= bin) bins.push(0);
    bins[bin] = (bins[bin] ?? 0) + 1;
  }
  return bins.map(count => count / (binMs / 1_000));
}

/**
 * The rate a storm drained at once it was going: the CSRs between the 10th and the 90th percentile
 * of completion times, divided by the time between them. Less sensitive to the ramp-up (creation)
 * and to a straggler than count / total duration.
 */
export function sustainedRate(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  if (sorted.length < 10) return Number.NaN;
  const lo = percentile(sorted, 10);
  const hi = percentile(sorted, 90);
  const between = sorted.filter(t => t >= lo && t <= hi).length;
  return hi > lo ? (between - 1) / ((hi - lo) / 1_000) : Number.NaN;
}

/** a / b, or NaN when either is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0)
    return Number.NaN;
  return a / b;
}

/** The median of a few numbers (NaN-free), or NaN. */
export function median(values: readonly number[]): number {
  return percentile(
    values.filter(v => Number.isFinite(v)).sort((a, b) => a - b),
    50,
  );
}

/** Rounds for reports: 3 significant digits, integers kept whole. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  if (Math.abs(value) >= 10 ** digits) return Math.round(value);
  return Number(value.toPrecision(digits));
}
