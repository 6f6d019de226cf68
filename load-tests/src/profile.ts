// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time by function and by package, so the
// report names where a worker's CPU goes without opening DevTools.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileRow {
  readonly name: string;
  readonly selfMs: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  /** Time not idle (everything but `(idle)`). */
  readonly busyMs: number;
  readonly byPackage: readonly ProfileRow[];
  readonly byFunction: readonly ProfileRow[];
}

/** Where a script comes from: a package name, `node:internal`, `(gc)`, `(program)`, … */
export function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1] ?? url;
  const workspace = /\/(packages|services|load-tests)\/([^/]+)\//.exec(url);
  if (workspace)
    return workspace[1] === 'load-tests'
      ? '@stampede/load-tests'
      : `@stampede/${workspace[2] ?? ''}`;
  if (url.startsWith('node:'))
    return url.split('/')[0] === 'node:internal' ? `node:internal/${url.split('/')[1] ?? ''}` : url;
  return url;
}

function top(map: Map<string, number>, total: number, limit: number): ProfileRow[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, selfMs: us / 1_000, share: total > 0 ? us / total : 0 }));
}

export function summarizeProfile(file: string, limit = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map(node => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    total += us;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const pkg = packageOf(frame.url, frame.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const where =
      frame.url === ''
        ? ''
        : ` ${frame.url.replace(/^.*\/(node_modules|packages|services)\//, '$1/')}:${frame.lineNumber + 1}`;
    const fn = `${frame.functionName === '' ? '(anonymous)' : frame.functionName}${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const busy = total - idle;
  return {
    file,
    totalMs: total / 1_000,
    busyMs: busy / 1_000,
    byPackage: top(byPackage, busy, limit),
    byFunction: top(byFunction, busy, limit),
  };
}
