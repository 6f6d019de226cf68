// What a worker's own Node view (docs/adr/0019) costs at fleet sizes: a fresh control plane with N
// Nodes, then a real worker process under its ServiceAccount. Measured: time from start to ready
// (its LIST of every Node), the worker's RSS and V8 heap once ready, API server + etcd CPU spent on
// that start, both idle over 20 s afterwards (one Node watch per worker), and the catch-up wait a
// CSR sees: a Node's status is changed and the time until a Node view has applied that version.
// Run: node load-tests/src/node-view-scale.ts [--heap-mb M] [--cpu-prof-dir DIR] [N …]   (default 10000 100000; heap 128,
// the cap of deploy/base/worker.yaml)
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { System } from '@stampede/harness';
import { createKubeClient, loadKubeConfig } from '@stampede/kube';
import { startNodeView } from '@stampede/worker';
import { createNodes, fleetNodes } from './fleet.ts';
import { sampleProcess } from './proc.ts';
import { median, percentile } from './stats.ts';

const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function cpuOf(pids: readonly (number | undefined)[]): number {
  return pids.reduce<number>((sum, pid) => sum + (sampleProcess(pid)?.cpuSeconds ?? 0), 0);
}

function nodeOptions(heapMb: number, cpuProfDir: string | undefined): string {
  const heap = `--max-old-space-size=${heapMb}`;
  return cpuProfDir === undefined ? heap : `${heap} --cpu-prof --cpu-prof-dir=${cpuProfDir}`;
}

async function measure(count: number, heapMb: number, cpuProfDir?: string): Promise<void> {
  const system = await System.start();
  try {
    const created = performance.now();
    await createNodes(system.cp.admin, fleetNodes('scale', count), 48);
    const createS = (performance.now() - created) / 1000;
    const cp = system.cp.pids;
    const control = [cp.apiserver, cp.etcd];
    const cpuBefore = cpuOf(control);
    const t0 = performance.now();
    // By default the heap cap of deploy/base/worker.yaml, so the figure says whether it holds.
    const worker = await system.start(
      'worker',
      { NODE_OPTIONS: nodeOptions(heapMb, cpuProfDir) },
      { readyTimeoutMs: 600_000 },
    );
    const readyS = (performance.now() - t0) / 1000;
    const startCpu = cpuOf(control) - cpuBefore;
    const pid = worker.child.pid;
    const sample = sampleProcess(pid);
    const idleFrom = { control: cpuOf(control), worker: sampleProcess(pid)?.cpuSeconds ?? 0 };
    await sleep(20_000);
    const idle = {
      control: (cpuOf(control) - idleFrom.control) / 20,
      worker: ((sampleProcess(pid)?.cpuSeconds ?? 0) - idleFrom.worker) / 20,
    };

    // The catch-up wait: change a Node, then time until a view has applied that version.
    const abort = new AbortController();
    const kube = await createKubeClient({
      kubeConfig: loadKubeConfig({ path: system.kubeconfig.worker }),
      logger: silent,
    });
    const view = startNodeView({ kube, signal: abort.signal });
    while (!view.synced()) await sleep(50);
    const waits: number[] = [];
    for (let i = 0; i < 100; i++) {
      const name = `scale-${(i * 7919) % count}`;
      const patched = await system.cp.admin.patch<{ metadata: { resourceVersion: string } }>(
        `/api/v1/nodes/${name}/status`,
        {
          status: {
            addresses: [
              { type: 'Hostname', address: name },
              { type: 'InternalIP', address: `10.250.${i >> 8}.${i & 255}` },
            ],
          },
        },
      );
      const start = performance.now();
      const caught = await view.caughtUp(patched.metadata.resourceVersion, 5_000, abort.signal);
      if (caught !== 'caught-up') throw new Error(`view did not catch up: ${caught}`);
      waits.push(performance.now() - start);
    }
    abort.abort();
    await kube.close();
    // SIGTERM, so V8 writes the --cpu-prof profile (stopAll's SIGKILL would lose it).
    await system.stop(worker);
    process.stdout.write(
      `${JSON.stringify({
        nodes: count,
        heapMb,
        createNodesSeconds: Math.round(createS),
        workerReadySeconds: Number(readyS.toFixed(2)),
        workerRssMiB: Math.round((sample?.rssBytes ?? 0) / 2 ** 20),
        workerPeakRssMiB: Math.round((sample?.peakRssBytes ?? 0) / 2 ** 20),
        controlPlaneCpuSecondsForWorkerStart: Number(startCpu.toFixed(2)),
        idleControlPlaneCores: Number(idle.control.toFixed(3)),
        idleWorkerCores: Number(idle.worker.toFixed(4)),
        catchUpWaitMs: {
          p50: Number(median(waits).toFixed(2)),
          p99: Number(
            percentile(
              [...waits].sort((a, b) => a - b),
              99,
            ).toFixed(2),
          ),
        },
      })}\n`,
    );
  } finally {
    await system.stopAll();
  }
}

const { values, positionals } = parseArgs({
  options: { 'heap-mb': { type: 'string', default: '128' }, 'cpu-prof-dir': { type: 'string' } },
  allowPositionals: true,
});
const heapMb = Number(values['heap-mb']);
const sizes = positionals.map(Number).filter(n => n > 0);
for (const count of sizes.length > 0 ? sizes : [10_000, 100_000])
  await measure(count, heapMb, values['cpu-prof-dir']);
