// Measures the memory and CPU of the watcher and worker against a real control plane and Redis, the
// numbers behind the requests and limits in deploy/. Two watchers and W workers (default 1) run as
// OS processes under their own ServiceAccounts; N kubelets (default 500) each request a serving
// certificate at once; /proc is sampled every 250 ms.
//
//   node packages/deploy-tests/bench/resources.ts [--csrs 500] [--workers 1] [--idle 15]
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeletEmulator, repoRoot, startControlPlane, startRedis } from '@stampede/harness';
import type { CertificateSigningRequest, NodeAddress } from '@stampede/harness';
import { sampleProcess, startService, waitReady } from '../test/support/services.ts';
import type { ProcessSample, RunningService } from '../test/support/services.ts';

const { values } = parseArgs({
  options: {
    csrs: { type: 'string', default: '500' },
    workers: { type: 'string', default: '1' },
    idle: { type: 'string', default: '15' },
    // e.g. --node-options=--max-old-space-size=128: what a container memory limit makes Node do
    'node-options': { type: 'string', default: '' },
  },
});
const COUNT = Number(values.csrs);
const WORKERS = Number(values.workers);
const IDLE_SECONDS = Number(values.idle);
const CSR_LIST = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

async function inBatches<T>(items: readonly T[], size: number, run: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MiB`;
const millicores = (cpuSeconds: number, seconds: number): string =>
  `${Math.round((cpuSeconds / seconds) * 1000)}m`;

interface Row {
  idleRss: number;
  idleCpu: string;
  burstCpu: string;
  peakRss: number;
  afterRss: number;
}

const cp = await startControlPlane();
const redis = await startRedis();
const services: RunningService[] = [];
try {
  const root = repoRoot();
  const kubeconfig = {
    watcher: await cp.serviceKubeconfig('watcher'),
    worker: await cp.serviceKubeconfig('worker'),
  };
  const common = {
    REDIS_URL: redis.url,
    HEALTH_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    ...(values['node-options'] === '' ? {} : { NODE_OPTIONS: values['node-options'] }),
  };
  for (let i = 0; i < 2; i++)
    services.push(
      startService(root, 'watcher', {
        ...common,
        KUBECONFIG_PATH: kubeconfig.watcher,
        POD_NAME: `watcher-${i}`,
      }),
    );
  for (let i = 0; i < WORKERS; i++)
    services.push(
      startService(root, 'worker', {
        ...common,
        KUBECONFIG_PATH: kubeconfig.worker,
        POD_NAME: `worker-${i}`,
        RATE_LIMIT_JOBS_PER_SECOND: '0',
      }),
    );
  await Promise.all(services.map(service => waitReady(service)));

  const sampleAll = (): ProcessSample[] => services.map(s => sampleProcess(s.pid));
  const rows: Row[] = services.map(() => ({
    idleRss: 0,
    idleCpu: '',
    burstCpu: '',
    peakRss: 0,
    afterRss: 0,
  }));

  await sleep(3_000); // let start-up settle
  let before = sampleAll();
  await sleep(IDLE_SECONDS * 1000);
  let now = sampleAll();
  now.forEach((sample, i) => {
    const row = rows[i];
    const start = before[i];
    if (row === undefined || start === undefined) return;
    row.idleRss = sample.rss;
    row.idleCpu = millicores(sample.cpuSeconds - start.cpuSeconds, IDLE_SECONDS);
  });

  const nodes = Array.from({ length: COUNT }, (_, i) => {
    const name = `bench-${i}`;
    const addresses: NodeAddress[] = [
      { type: 'Hostname', address: name },
      { type: 'InternalIP', address: `10.2.${i >> 8}.${i & 255}` },
    ];
    return { name, addresses };
  });
  await inBatches(nodes, 25, n => cp.createNode(n.name, n.addresses));
  const kubelets = nodes.map(
    n =>
      new KubeletEmulator({
        nodeName: n.name,
        addresses: n.addresses,
        harness: cp,
        sharedClientKey: true,
      }),
  );
  before = sampleAll();
  const started = performance.now();
  await inBatches(kubelets, 50, kubelet => kubelet.createCsr());
  const created = performance.now();

  for (;;) {
    await sleep(250);
    const list = await cp.admin.get<{ items: CertificateSigningRequest[] }>(CSR_LIST);
    const settled = list.items.filter(c =>
      (c.spec.username ?? '').startsWith('system:node:bench-'),
    );
    const done = settled.filter(c => (c.status?.conditions ?? []).length > 0).length;
    const at = performance.now();
    if (done >= COUNT) break;
    if (at - started > 600_000) throw new Error(`only ${done}/${COUNT} decided after 10 min`);
  }
  const burstSeconds = (performance.now() - started) / 1000;
  now = sampleAll();
  now.forEach((sample, i) => {
    const row = rows[i];
    const start = before[i];
    if (row === undefined || start === undefined) return;
    row.burstCpu = millicores(sample.cpuSeconds - start.cpuSeconds, burstSeconds);
    row.peakRss = sample.peakRss;
  });
  await sleep(IDLE_SECONDS * 1000);
  sampleAll().forEach((sample, i) => {
    const row = rows[i];
    if (row !== undefined) row.afterRss = sample.rss;
  });

  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  out(
    `\n${COUNT} CSRs created in ${((created - started) / 1000).toFixed(1)} s, all decided ` +
      `${burstSeconds.toFixed(1)} s after the first (${(COUNT / burstSeconds).toFixed(0)} CSR/s; ` +
      `2 watchers, ${WORKERS} worker(s), concurrency 10, no rate limit; Node ${process.version}${values['node-options'] === '' ? '' : `, NODE_OPTIONS=${values['node-options']}`})\n`,
  );
  out('| process | idle RSS | idle CPU | CPU during the burst (avg) | peak RSS | RSS after |');
  out('| --- | --- | --- | --- | --- | --- |');
  services.forEach((service, i) => {
    const row = rows[i];
    if (row === undefined) return;
    out(
      `| ${service.kind} ${i} | ${mib(row.idleRss)} | ${row.idleCpu} | ${row.burstCpu} | ` +
        `${mib(row.peakRss)} | ${mib(row.afterRss)} |`,
    );
  });
} finally {
  await Promise.all(services.map(service => service.stop()));
  await Promise.all([redis.stop(), cp.stop()]);
}
