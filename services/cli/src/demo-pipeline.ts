// `stampede demo`: the real pipeline on embedded defaults. A harness control plane (etcd,
// kube-apiserver, kube-controller-manager) and Redis, one watcher and two workers as separate OS
// processes under their own ServiceAccounts (deploy/base/rbac), a simulated fleet of kubelets with
// Node objects, and a few invalid requests that must be denied. Prints a live progress bar on
// stderr and a summary on stdout; the exit status says whether every valid kubelet got a verified
// certificate and no invalid request was approved.
import { X509Certificate } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
// The launcher the e2e tests use: control plane + Redis + services as processes under their
// ServiceAccounts, each registered with the harness reaper as it is spawned, so they die with the
// demo even if it is SIGKILLed. The demo runs the services exactly as the e2e tests do.
import { KubeletEmulator, System, settledAs, startJaeger, until } from '@stampede/harness';
import type {
  CertificateSigningRequest,
  Jaeger,
  NodeAddress,
  ServiceProcess,
} from '@stampede/harness';
import { InputError } from './report.ts';
import { DemoKubelets, allServedRight, servedLines } from './demo-real-kubelets.ts';
import type { ServedReport } from './demo-real-kubelets.ts';

export const DEMO_USAGE = `usage: stampede demo [--nodes N] [--real-kubelets N] [--keep] [--jaeger | --no-jaeger]
       stampede demo --offline      (or: stampede explain-samples)

Runs the whole system locally: a real control plane and Redis (from @stampede/harness), one watcher
and two workers as separate processes under their own ServiceAccounts, the Bull Board dashboard,
and a simulated fleet of N kubelets (default 200) that request serving certificates, plus a few
invalid requests (another node's IP, client auth) that must be denied. Next to them run a few real
kubelets (v1.37.2 with a fake container runtime, each on an address of its own on lo): the demo
shows the certificate each one serves on its port. When Jaeger is available
the services export their traces to it, and the demo prints the Jaeger page of one CSR's trace.

  --nodes N      fleet size (default 200)
  --real-kubelets N
                 real kubelets next to the fleet (default 2, 0 to skip; needs root for the
                 addresses on lo; the first run builds the kubelet, about two minutes)
  --keep         leave everything running afterwards and print how to explore it; Ctrl-C ends
  --jaeger       build Jaeger first if it is not built yet (a cold build takes several minutes)
  --no-jaeger    run without Jaeger even if it is built
                 (default: use Jaeger when it is already built, e.g. by ./run test)
  --offline      no cluster: the policy over sample CSRs, printed as a table
  -h, --help     show this help

Exit status: 0 when every valid kubelet got a verified certificate and no invalid request was
approved; 1 otherwise; 2 on bad flags.`;

export interface DemoIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Raw text to stderr (no newline), for redrawing the progress line on a terminal. */
  readonly writeStderr: (text: string) => void;
  /** stderr is a terminal: redraw one progress line instead of printing one a second. */
  readonly tty: boolean;
  /** Resolves when the user asks to stop (Ctrl-C) in --keep mode. */
  readonly interrupted: () => Promise<void>;
}

interface DemoOptions {
  readonly nodes: number;
  readonly realKubelets: number;
  readonly keep: boolean;
  /** build: build Jaeger if needed; cached: use it if built; off: none. */
  readonly jaeger: 'build' | 'cached' | 'off';
}

export function parseDemoArgs(args: readonly string[]): DemoOptions | 'help' {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    allowNegative: true,
    options: {
      nodes: { type: 'string', default: '200' },
      'real-kubelets': { type: 'string', default: '2' },
      keep: { type: 'boolean', default: false },
      jaeger: { type: 'boolean' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 5000)
    throw new InputError(`--nodes must be an integer from 1 to 5000, not ${values.nodes}`);
  const realKubelets = Number(values['real-kubelets']);
  if (!Number.isInteger(realKubelets) || realKubelets < 0 || realKubelets > 20)
    throw new InputError(
      `--real-kubelets must be an integer from 0 to 20, not ${values['real-kubelets']}`,
    );
  const jaeger = values.jaeger === undefined ? 'cached' : values.jaeger ? 'build' : 'off';
  return { nodes, realKubelets, keep: values.keep, jaeger };
}

interface Invalid {
  readonly kubelet: KubeletEmulator;
  /** Its Node object, as the API server has it (the kubelet may claim other addresses). */
  readonly node: { readonly name: string; readonly addresses: NodeAddress[] };
  readonly usages?: readonly string[];
}

function addressesOf(name: string, ip: string): NodeAddress[] {
  return [
    { type: 'Hostname', address: name },
    { type: 'InternalIP', address: ip },
  ];
}

/** 10.20.0.1, 10.20.0.2, … : 250 per /24, unique for any fleet the demo accepts. */
function fleetIp(i: number): string {
  return `10.${20 + Math.floor(i / 62_500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

class Progress {
  readonly #io: DemoIo;
  readonly #total: number;
  readonly #started = performance.now();
  #issued = 0;
  #failed = 0;
  #lastLine = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(io: DemoIo, total: number) {
    this.#io = io;
    this.#total = total;
    this.#timer = setInterval(() => {
      this.#draw(false);
    }, 1000);
    this.#timer.unref();
    this.#draw(false);
  }

  issued(): void {
    this.#issued++;
    if (this.#io.tty) this.#draw(false);
  }

  failed(): void {
    this.#failed++;
  }

  #draw(final: boolean): void {
    const now = performance.now();
    const seconds = ((now - this.#started) / 1000).toFixed(1);
    const width = 30;
    const filled = Math.round((this.#issued / this.#total) * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const failed = this.#failed > 0 ? `, ${this.#failed} failed` : '';
    const text = `issued [${bar}] ${this.#issued}/${this.#total}${failed}  ${seconds} s`;
    if (this.#io.tty) {
      // Throttle redraws to ~20 per second; the last one always lands.
      if (!final && now - this.#lastLine < 50) return;
      this.#lastLine = now;
      this.#io.writeStderr(`\r\u001b[2K${text}${final ? '\n' : ''}`);
    } else if (final || now - this.#lastLine >= 950) {
      this.#lastLine = now;
      this.#io.stderr(text);
    }
  }

  done(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#draw(true);
  }
}

interface FleetResult {
  /** From the first CSR create call to the last one's response. */
  readonly filedSeconds: number;
  readonly createdToIssuedMs: number[];
  readonly verified: number;
  readonly failures: string[];
}

async function runFleet(
  fleet: readonly KubeletEmulator[],
  caPem: string,
  progress: Progress,
): Promise<FleetResult> {
  const ca = new X509Certificate(caPem);
  const createdToIssuedMs: number[] = [];
  const failures: string[] = [];
  let verified = 0;
  // Create the CSRs as fast as a fleet coming up would (bounded, so the demo's own process is not
  // what limits), and wait for each certificate as the kubelet does: a watch on its own CSR.
  const waits: Promise<void>[] = [];
  const filing = performance.now();
  await pool(fleet, 32, async kubelet => {
    try {
      await kubelet.createCsr();
    } catch (error) {
      failures.push(`${kubelet.nodeName}: create failed: ${String(error)}`);
      progress.failed();
      return;
    }
    waits.push(
      kubelet.waitForCertificate({ timeoutMs: 180_000 }).then(
        issued => {
          // waitForCertificate verified chain, key, subject, SANs and usages; check the CA again.
          if (issued.certificate.verify(ca.publicKey)) verified++;
          else failures.push(`${kubelet.nodeName}: certificate does not verify`);
          if (issued.timings.createdToIssuedMs !== undefined)
            createdToIssuedMs.push(issued.timings.createdToIssuedMs);
          progress.issued();
        },
        (error: unknown) => {
          failures.push(`${kubelet.nodeName}: ${String(error).split('\n')[0] ?? ''}`);
          progress.failed();
        },
      ),
    );
  });
  const filedSeconds = (performance.now() - filing) / 1000;
  await Promise.all(waits);
  return {
    filedSeconds,
    createdToIssuedMs: createdToIssuedMs.sort((a, b) => a - b),
    verified,
    failures,
  };
}

async function settle(
  system: System,
  invalid: readonly Invalid[],
): Promise<CertificateSigningRequest[]> {
  return Promise.all(
    invalid.map(async ({ kubelet, usages }) => {
      const csr = await kubelet.createCsr(usages === undefined ? {} : { usages });
      return until(
        `${csr.metadata.name} settled`,
        async () => {
          const now = await system.cp.getCsr(csr.metadata.name);
          return settledAs(now) === undefined ? undefined : now;
        },
        180_000,
        250,
      );
    }),
  );
}

function tally(csrs: readonly CertificateSigningRequest[]): {
  denied: Map<string, number>;
  invalidApproved: number;
} {
  const denied = new Map<string, number>();
  let invalidApproved = 0;
  for (const csr of csrs) {
    const condition = conditionOf(csr, 'Denied');
    const reason = condition?.reason ?? '?';
    if (condition === undefined) invalidApproved++;
    else denied.set(reason, (denied.get(reason) ?? 0) + 1);
  }
  return { denied, invalidApproved };
}

function conditionOf(csr: CertificateSigningRequest, type: string) {
  return csr.status?.conditions?.find(c => c.type === type);
}

async function explore(
  system: System,
  services: readonly ServiceProcess[],
  served: readonly ServedReport[],
  io: DemoIo,
) {
  const ports = await Promise.all(services.map(s => s.healthPort));
  io.stdout('');
  io.stdout('Everything is still running (--keep). Explore:');
  io.stdout(`  export KUBECONFIG=${system.cp.adminKubeconfigPath}`);
  io.stdout(`  kubectl --kubeconfig ${system.cp.adminKubeconfigPath} get csr`);
  io.stdout(
    `  kubectl --kubeconfig ${system.cp.adminKubeconfigPath} get events -n default --field-selector involvedObject.kind=CertificateSigningRequest`,
  );
  io.stdout(`  kubectl --kubeconfig ${system.cp.adminKubeconfigPath} get nodes -o wide`);
  io.stdout(`  redis-cli -u ${system.redis.url} keys 'bull:*'`);
  services.forEach((service, i) => {
    const where =
      service.kind === 'dashboard'
        ? `http://127.0.0.1:${ports[i] ?? 0}/  (Bull Board)`
        : `http://127.0.0.1:${ports[i] ?? 0}/healthz  /readyz  /metrics`;
    io.stdout(`  ${service.name.padEnd(11)} ${where}   log: ${service.logPath}`);
  });
  for (const { name, endpoint } of served)
    io.stdout(
      `  ${name}: openssl s_client -connect ${endpoint} </dev/null | openssl x509 -noout -text`,
    );
  io.stdout(`  API server ${system.cp.server}, control plane files in ${system.cp.dir}`);
  io.stdout('Ctrl-C stops and removes everything.');
  await io.interrupted();
}

/**
 * Invalid requests, each from a real node identity with its own Node object: two kubelets asking
 * for an IP that another node reports, and one asking for client auth too.
 */
function invalidRequests(system: System, fleet: readonly KubeletEmulator[]): Invalid[] {
  const stolen = (i: number) => fleet[i % fleet.length]?.ips[0] ?? '10.99.1.1';
  return [
    { name: 'thief-1', ip: '10.99.0.1', claims: stolen(0) },
    { name: 'thief-2', ip: '10.99.0.2', claims: stolen(1) },
    { name: 'client-auth', ip: '10.99.0.3', claims: '10.99.0.3' },
  ].map(({ name, ip, claims }) => ({
    kubelet: new KubeletEmulator({
      nodeName: name,
      addresses: addressesOf(name, claims),
      harness: system.cp,
    }),
    node: { name, addresses: addressesOf(name, ip) },
    ...(name === 'client-auth'
      ? { usages: ['digital signature', 'server auth', 'client auth'] }
      : {}),
  }));
}

/** Every valid emulated kubelet got a verified certificate and no invalid request was approved. */
const passed = (fleet: FleetResult, nodes: number, invalidApproved: number): boolean =>
  fleet.verified === nodes && fleet.failures.length === 0 && invalidApproved === 0;

/** The fleet: one emulated kubelet per Node, with the addresses it will put in its CSR. */
function emulatedFleet(system: System, nodes: number): KubeletEmulator[] {
  return Array.from({ length: nodes }, (_, i) => {
    const name = `node-${String(i + 1).padStart(4, '0')}`;
    return new KubeletEmulator({
      nodeName: name,
      addresses: addressesOf(name, fleetIp(i)),
      harness: system.cp,
      sharedClientKey: true,
    });
  });
}

/** Runs the demo; returns the exit status. */
export async function runPipelineDemo(args: readonly string[], io: DemoIo): Promise<number> {
  const options = parseDemoArgs(args);
  if (options === 'help') {
    io.stdout(DEMO_USAGE);
    return 0;
  }
  const t0 = performance.now();
  io.stderr('starting a control plane and Redis …');
  const [system, jaeger] = await Promise.all([System.start(), demoJaeger(options, io)]);
  const services: ServiceProcess[] = [];
  const realKubelets = new DemoKubelets(system.cp, options.realKubelets);
  try {
    const tUp = performance.now();
    io.stderr(
      `up in ${((tUp - t0) / 1000).toFixed(1)} s; starting 1 watcher, 2 workers and the dashboard …`,
    );
    const dashboardUrl = await startServices(system, jaeger, services);
    io.stderr(`Bull Board: ${dashboardUrl}${jaegerNote(jaeger)}`);
    const tServices = performance.now();

    const fleet = emulatedFleet(system, options.nodes);
    io.stderr(`creating ${options.nodes} Nodes${realKubelets.starting} …`);
    // Real kubelets register their own Nodes and file their own CSRs as soon as they are up.
    realKubelets.start();
    await pool(fleet, 16, kubelet => system.cp.createNode(kubelet.nodeName, kubelet.addresses));
    const invalid = invalidRequests(system, fleet);
    for (const { node } of invalid) await system.cp.createNode(node.name, node.addresses);

    io.stderr(`${options.nodes} kubelets request serving certificates …`);
    const tFleet = performance.now();
    const progress = new Progress(io, options.nodes);
    const [fleetResult, invalidCsrs, served] = await Promise.all([
      runFleet(fleet, system.cp.kubeletServingCaPem, progress),
      settle(system, invalid),
      realKubelets.served(system.cp.kubeletServingCaPem),
    ]);
    progress.done();
    const fleetSeconds = (performance.now() - tFleet) / 1000;

    const { denied, invalidApproved } = tally(invalidCsrs);
    // Approvals as the API server has them, for the whole fleet.
    const all = await system.csrs();
    const approved = [...all.values()].filter(csr => conditionOf(csr, 'Approved') !== undefined);

    const lines = summary({
      options,
      approved: approved.length,
      denied,
      invalid: invalid.length,
      fleet: fleetResult,
      startSeconds: (tUp - t0) / 1000,
      servicesSeconds: (tServices - tUp) / 1000,
      fleetSeconds,
      totalSeconds: (performance.now() - t0) / 1000,
    });
    for (const line of [...lines, ...servedLines(served, options.realKubelets)]) io.stdout(line);
    const observed = await observe({
      dashboardUrl,
      jaeger,
      keep: options.keep,
      jaegerMode: options.jaeger,
      examples: { approved: fleet[0]?.csr, denied: invalidCsrs[0] },
    });
    for (const line of observed) io.stdout(line);
    for (const failure of fleetResult.failures.slice(0, 20)) io.stderr(`  failed: ${failure}`);
    const ok = passed(fleetResult, options.nodes, invalidApproved) && allServedRight(served);
    io.stdout(ok ? 'result: OK' : 'result: FAILED');
    if (options.keep) await explore(system, services, served, io);
    return ok ? 0 : 1;
  } finally {
    io.stderr('tearing down …');
    await realKubelets.stop();
    await tearDown(system, jaeger);
  }
}

/** Graceful first (SIGTERM: the workers finish or release their jobs), then everything else. */
async function tearDown(system: System, jaeger: Jaeger | undefined): Promise<void> {
  await Promise.all(
    system.services.map(async service => {
      if (service.child.exitCode === null && service.child.signalCode === null)
        await Promise.race([system.stop(service), sleep(10_000, undefined, { ref: false })]);
    }),
  );
  await system.stopAll();
  await jaeger?.stop();
}

/**
 * One watcher, two workers and the dashboard, appended to `services` as they come up; returns the
 * dashboard's URL. Spans go to Jaeger when there is one; the short batch delay lets the demo find
 * a trace right after the fleet is done instead of after the default 5 s flush.
 */
async function startServices(
  system: System,
  jaeger: Jaeger | undefined,
  services: ServiceProcess[],
): Promise<string> {
  const tracing: Record<string, string> = jaeger
    ? { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint, OTEL_BSP_SCHEDULE_DELAY: '500' }
    : {};
  const [dashboard, ...pipeline] = await Promise.all([
    system.start('dashboard', jaeger ? { JAEGER_UI_URL: jaeger.uiUrl } : {}),
    system.start('watcher', tracing),
    system.start('worker', tracing),
    system.start('worker', tracing),
  ]);
  services.push(...pipeline, dashboard);
  return `http://127.0.0.1:${await dashboard.healthPort}/`;
}

function jaegerNote(jaeger: Jaeger | undefined): string {
  return jaeger ? `   Jaeger: ${jaeger.uiUrl}` : '';
}

/** Jaeger for the demo: built if asked to, used if already built, or none. */
async function demoJaeger(options: DemoOptions, io: DemoIo): Promise<Jaeger | undefined> {
  if (options.jaeger === 'off') return undefined;
  io.stderr(options.jaeger === 'build' ? 'starting Jaeger …' : 'starting Jaeger if it is built …');
  const log = (line: string) => {
    io.stderr(line);
  };
  try {
    return options.jaeger === 'build'
      ? await startJaeger({ log })
      : await startJaeger({ log, cachedOnly: true });
  } catch (error) {
    // Tracing is optional here: the approvals are the demo. Say why, then go on without it.
    io.stderr(
      `Jaeger did not start, going on without traces: ${String(error).split('\n')[0] ?? ''}`,
    );
    return undefined;
  }
}

/**
 * Where to look: the Bull Board URL, and the Jaeger page of one approved and one denied CSR's
 * trace, found through Jaeger's own search by the CSR's uid.
 */
async function observe(input: {
  readonly dashboardUrl: string;
  readonly jaeger: Jaeger | undefined;
  readonly keep: boolean;
  readonly jaegerMode: DemoOptions['jaeger'];
  readonly examples: Readonly<Record<'approved' | 'denied', CertificateSigningRequest | undefined>>;
}): Promise<string[]> {
  const { jaeger } = input;
  const later = input.keep ? '' : ' (gone when the demo ends; --keep keeps them)';
  const lines = ['', `  Bull Board:          ${input.dashboardUrl}${later}`];
  if (jaeger === undefined) {
    lines.push(
      input.jaegerMode === 'off'
        ? '  Jaeger:              left out (--no-jaeger)'
        : '  Jaeger:              not running, so no traces (./run test builds it, or: ./run demo --jaeger)',
    );
    return lines;
  }
  lines.push(`  Jaeger:              ${jaeger.uiUrl}`);
  for (const [outcome, csr] of Object.entries(input.examples)) {
    if (csr !== undefined) lines.push(await traceLine(jaeger, outcome, csr));
  }
  return lines;
}

/** The Jaeger page of one CSR's trace (spans arrive within a second; a slow box gets 20 s). */
async function traceLine(
  jaeger: Jaeger,
  outcome: string,
  csr: CertificateSigningRequest,
): Promise<string> {
  const { name, uid = '' } = csr.metadata;
  const trace = await until(
    `the trace of ${name} in Jaeger`,
    async () => {
      const tags = { 'stampede.csr.uid': uid, 'stampede.outcome': outcome };
      return (await jaeger.findTraces('stampede-worker', tags))[0];
    },
    20_000,
    250,
  ).catch(() => undefined);
  const label = `${outcome} CSR:`.padEnd(17);
  if (trace?.[0] === undefined) return `    ${label} ${name}: no trace in Jaeger after 20 s`;
  const services = [...new Set(trace.map(span => span.service))].sort().join(' + ');
  return `    ${label} ${jaeger.traceUrl(trace[0].traceId)}  (${name}: ${trace.length} spans, ${services})`;
}

function summary(input: {
  options: DemoOptions;
  approved: number;
  denied: ReadonlyMap<string, number>;
  invalid: number;
  fleet: FleetResult;
  startSeconds: number;
  servicesSeconds: number;
  fleetSeconds: number;
  totalSeconds: number;
}): string[] {
  const { fleet } = input;
  const ms = (v: number) => `${Math.round(v)} ms`;
  const s = (v: number) => `${v.toFixed(1)} s`;
  const deniedTotal = [...input.denied.values()].reduce((a, b) => a + b, 0);
  return [
    '',
    `stampede demo: ${input.options.nodes} kubelets + ${input.invalid} invalid requests${input.options.realKubelets > 0 ? ` + ${input.options.realKubelets} real kubelets` : ''}; 1 watcher, 2 workers (own ServiceAccounts)`,
    `  approved:            ${input.approved}`,
    `  denied:              ${deniedTotal}`,
    ...[...input.denied.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([reason, count]) => `    ${`${reason}:`.padEnd(18)} ${count}`),
    `  issued and verified: ${fleet.verified}/${input.options.nodes}`,
    `  created to issued:   p50 ${ms(percentile(fleet.createdToIssuedMs, 50))}, p99 ${ms(percentile(fleet.createdToIssuedMs, 99))}, max ${ms(fleet.createdToIssuedMs.at(-1) ?? Number.NaN)} (kubelet clock)`,
    `  time:                ${s(input.totalSeconds)} to this summary: control plane + Redis ${s(input.startSeconds)}, services ready ${s(input.servicesSeconds)},`,
    `                       fleet ${s(input.fleetSeconds)} (all ${input.options.nodes} CSRs filed in ${s(fleet.filedSeconds)})`,
  ];
}
