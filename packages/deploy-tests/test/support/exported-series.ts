// The series names the watcher and the worker serve on /metrics, taken from the registry they
// build (packages/telemetry), so alert rules and dashboards are checked against what really exists.
import { addQueueDepth, createMetrics } from '@stampede/telemetry';

/** Every series name, histograms with their _bucket, _sum and _count. */
export async function exportedSeries(): Promise<Set<string>> {
  const metrics = createMetrics({ service: 'any' });
  addQueueDepth(metrics, { queue: 'q', counts: () => Promise.resolve({}) });
  const { body } = await metrics.render();
  const names = new Set<string>();
  for (const [, name, type] of body.matchAll(/^# TYPE (\w+) (\w+)$/gm)) {
    if (name === undefined) continue;
    const suffixes = type === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    for (const suffix of suffixes) names.add(`${name}${suffix}`);
  }
  return names;
}

/** The stampede_* series an expression reads. */
export const seriesIn = (expr: string): string[] =>
  [...expr.matchAll(/\b(stampede_\w+)/g)].map(m => m[1] ?? '');
