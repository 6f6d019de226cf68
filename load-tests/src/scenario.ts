// One scenario, start to end: prepare the kubelets, start the approver, create the CSRs (storm,
// steady rate, or into a queue no worker reads yet), wait until every CSR reached what it must
// end as, and measure: latencies on the generator's clock, throughput, CPU and memory per
// component, Redis bytes, API calls by verb, and correctness (double and wrong approvals).
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CSR_PATH } from '@stampede/harness';
import type { KubeClient } from '@stampede/harness';
import { byCall, diffCounters, parseApiserverMetrics } from './apiserver-metrics.ts';
import type { ApiserverCounters, VerbRow } from './apiserver-metrics.ts';
import { RunningApprover } from './approver.ts';
import type { ApproverSpec, ClientStats } from './approver.ts';
import { WARM_CONNECTIONS_MAX, createCsr, planCsrs, pool, warmConnections } from './fleet.ts';
import type { CreateResult, FleetNode, Mix, PlannedCsr } from './fleet.ts';
import { CsrObserver } from './observer.ts';
import type { Observed } from './observer.ts';
import { machineBusySeconds } from './proc.ts';
import { profileApiserver } from './apiserver-profile.ts';
import type { GoProfile } from './apiserver-profile.ts';
import { summarizeProfile } from './profile.ts';
import type { ProfileSummary } from './profile.ts';
import type { JobTimes, RedisProbe } from './redis-stats.ts';
import { CpuSampler, OTHERS, sumSamples } from './sampler.ts';
import type { CpuSeries } from './sampler.ts';
import { histogram, ratePerBin, summarize, sustainedRate } from './stats.ts';
import type { Histogram, Summary } from './stats.ts';
import type { ApproverKubeconfigs, Target } from './target.ts';

export type LoadSpec =
  | { readonly kind: 'storm'; readonly count: number }
  | { readonly kind: 'steady'; readonly rate: number; readonly seconds: number }
  /** Create `count` CSRs with no worker running, measure Redis, then start the workers. */
  | { readonly kind: 'prequeued'; readonly count: number };

export interface ScenarioSpec {
  readonly id: string;
  readonly title: string;
  readonly approver: ApproverSpec;
  readonly load: LoadSpec;
  readonly mix: Mix;
  readonly timeoutMs: number;
}

export interface RunContext {
  readonly target: Target;
  readonly runId: string;
  readonly dir: string;
  readonly nodes: readonly FleetNode[];
  readonly approverKubeconfigs: ApproverKubeconfigs | undefined;
  readonly createConcurrency: number;
  readonly log: (line: string) => void;
  /**
   * Deletions of earlier scenarios' CSRs and Events still running: they overlap the next
   * scenario's preparation and are awaited before its approver starts.
   */
  readonly cleanups: Promise<void>[];
  /** Take a kube-apiserver CPU profile of this many seconds from the clock start of one scenario. */
  readonly apiserverProfile?: { readonly scenario: string; readonly seconds: number };
}

export interface ComponentUsage {
  readonly cpuSeconds: number;
  readonly cpuSecondsPer1000: number;
  readonly peakRssMB: number;
}

export interface Correctness {
  /** CSRs with more than one Approved condition, or more than one approver Event. */
  readonly doubleApprovals: number;
  /** Invalid CSRs approved, plus CSRs of other signers approved. */
  readonly wrongApprovals: number;
  readonly validNotApproved: number;
  readonly validDenied: number;
  readonly validNotIssued: number;
  readonly certificatesFailedVerification: number;
  readonly invalidNotDenied: number;
  readonly otherSignerTouched: number;
  /** Successful PUT …/approval responses beyond one per decided CSR (from the API server's counters). */
  readonly extraApprovalWrites: number;
  readonly eventsMissing: number;
  readonly createErrors: number;
  readonly denialReasons: Readonly<Record<string, number>>;
  readonly examples: readonly string[];
}

export interface CpuPerCsr {
  /** watcher + workers, or the baseline. */
  readonly approver: number;
  readonly redis: number;
  /** kube-apiserver + etcd + kube-controller-manager. */
  readonly controlPlane: number;
  readonly generator: number;
  /** Everything of this benchmark: the sum of the above. */
  readonly benchmark: number;
  readonly others: number;
}

export interface Stages {
  readonly createdToEnqueued: Summary;
  readonly queueWait: Summary;
  readonly workerProcessing: Summary;
  /**
   * Job finished (worker clock) → decision seen by the generator's watch: negative, as the worker
   * writes its Event after the approval; a large positive value means the generator's watch lagged.
   */
  readonly observedAfterFinish: Summary;
  readonly jobsPerCsr: number;
  readonly retriedJobs: number;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly approver: ApproverSpec;
  readonly load: LoadSpec;
  readonly mix: Mix;
  readonly counts: {
    readonly planned: number;
    readonly created: number;
    readonly valid: number;
    readonly invalid: number;
    readonly otherSigner: number;
    /** kubelet-serving CSRs the approver had to decide (valid + invalid). */
    readonly decided: number;
  };
  readonly seconds: {
    /** First create sent → last create acknowledged. */
    readonly creating: number;
    /** Clock start → last decision observed. */
    readonly toLastDecision: number;
    /** Clock start → last certificate observed. */
    readonly toLastIssued: number;
    /** Clock start → every CSR where it must be (or the timeout). */
    readonly total: number;
  };
  readonly timedOut: boolean;
  readonly latencyMs: {
    readonly timeToApprove: Summary;
    readonly timeToIssued: Summary;
    readonly timeToDeny: Summary;
    readonly approvedToIssued: Summary;
    readonly createRequest: Summary;
  };
  /** From BullMQ's own timestamps (stampede only). */
  readonly stagesMs?: Stages;
  readonly throughput: {
    /** Decisions per second between the 10th and 90th percentile decision. */
    readonly sustainedDecisionsPerSecond: number;
    /** Decisions / (clock start → last decision). */
    readonly overallDecisionsPerSecond: number;
    readonly sustainedIssuedPerSecond: number;
    /** Per second from the clock start. */
    readonly series: {
      readonly created: number[];
      readonly decided: number[];
      readonly issued: number[];
    };
  };
  readonly histogram: Histogram;
  readonly resources: Readonly<Record<string, ComponentUsage>>;
  /** Busy share of the machine's cores during the measured window (1.0 = every core busy). */
  readonly machineBusy: number;
  /** CPU ms per decided CSR, by group of processes (from `resources`). */
  readonly cpuMsPerCsr: CpuPerCsr;
  /** Share of the machine's busy time that was this benchmark's processes (the rest: others). */
  readonly ourShareOfBusy: number;
  /**
   * Decisions per second the benchmark's processes would reach alone on a 2-core machine, if CPU is
   * the limit: 2 × 1,000 ms ÷ benchmark CPU ms per CSR. Robust to other load on the machine.
   */
  readonly dedicatedCapacityPerSecond: number;
  readonly cpuSeries: CpuSeries;
  readonly api: {
    readonly rows: readonly VerbRow[];
    /** The approver's calls per decided CSR, by call. */
    readonly approverPerCsr: Readonly<Record<string, number>>;
    readonly approverCallsPerCsr: number;
    readonly throttled429: number;
    readonly apfRejected: number;
  };
  readonly clients: Readonly<Record<string, ClientStats & { newConnectionsPer1000Calls: number }>>;
  readonly redis?: {
    readonly emptyBytes: number;
    /** used_memory growth from the Node address index, per Node. */
    readonly indexBytesPerNode: number;
    /** (used_memory with N jobs queued − before) / N, with no worker running (prequeued only). */
    readonly bytesPerQueuedCsr?: number;
    readonly sampleJob?: { readonly jobHash: number; readonly dedupKey: number };
    readonly peakBytes: number;
    /** used_memory after the run (finished jobs are kept: 1 h, at most 10,000) per decided CSR. */
    readonly afterRunBytesPerCsr: number;
  };
  readonly profiles: readonly ProfileSummary[];
  readonly apiserverProfile?: GoProfile;
  readonly correctness: Correctness;
}

interface Snapshot {
  readonly at: number;
  readonly procs: ReturnType<typeof sumSamples>;
  readonly api: ApiserverCounters;
  readonly machine: { busy: number; total: number };
}

async function apiCounters(admin: KubeClient): Promise<ApiserverCounters> {
  const response = await admin.request<string>('GET', '/metrics');
  if (response.status !== 200) return { requests: [], apfRejected: 0 };
  return parseApiserverMetrics(response.body);
}

async function snapshot(ctx: RunContext, components: Record<string, number[]>): Promise<Snapshot> {
  const api = await apiCounters(ctx.target.admin);
  return {
    at: performance.now(),
    procs: sumSamples(components),
    api,
    machine: machineBusySeconds(),
  };
}

function componentsOf(ctx: RunContext, approver: RunningApprover): Record<string, number[]> {
  const pids = ctx.target.pids;
  return {
    ...approver.components(),
    ...(pids.apiserver === undefined ? {} : { 'kube-apiserver': [pids.apiserver] }),
    ...(pids.etcd === undefined ? {} : { etcd: [pids.etcd] }),
    ...(pids.kcm === undefined ? {} : { 'kube-controller-manager': [pids.kcm] }),
    'load generator': [process.pid],
  };
}

/** Creates every planned CSR: a storm through a pool, or one every 1/rate seconds. */
/** Whether this scenario's kubelets stay connected (warmed up front) or connect per create. */
const keepsConnections = (planned: readonly PlannedCsr[]): boolean =>
  planned.length <= WARM_CONNECTIONS_MAX;

async function runLoad(
  ctx: RunContext,
  load: LoadSpec,
  planned: readonly PlannedCsr[],
): Promise<(CreateResult | undefined)[]> {
  const results: (CreateResult | undefined)[] = planned.map(() => undefined);
  const close = !keepsConnections(planned);
  const create = async (csr: PlannedCsr, i: number): Promise<void> => {
    try {
      results[i] = await createCsr(csr, close);
    } catch (error) {
      ctx.log(`create ${csr.name}: ${String(error)}`);
    }
  };
  if (load.kind !== 'steady') {
    await pool(planned, ctx.createConcurrency, create);
    return results;
  }
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (const [i, csr] of planned.entries()) {
    const due = start + (i * 1_000) / load.rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const p = create(csr, i).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return results;
}

function settledAsExpected(csr: PlannedCsr, seen: Observed | undefined): boolean {
  if (csr.kind === 'other-signer') return true;
  if (seen === undefined) return false;
  if (csr.kind === 'invalid') return seen.deniedAt !== undefined || seen.approvedAt !== undefined;
  return seen.issuedAt !== undefined || seen.failedAt !== undefined || seen.deniedAt !== undefined;
}

async function waitSettled(
  observer: CsrObserver,
  planned: readonly PlannedCsr[],
  created: readonly (CreateResult | undefined)[],
  deadline: number,
): Promise<boolean> {
  const open = new Set(planned.filter((_, i) => created[i]?.status === 201));
  while (open.size > 0) {
    observer.check();
    for (const csr of open)
      if (settledAsExpected(csr, observer.byName.get(csr.name))) open.delete(csr);
    if (open.size === 0) break;
    if (performance.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

interface EventItem {
  readonly regarding?: { readonly uid?: string; readonly kind?: string };
  readonly reportingController?: string;
}

async function approverEvents(admin: KubeClient): Promise<Map<string, number>> {
  const perUid = new Map<string, number>();
  let token = '';
  do {
    const query = new URLSearchParams({
      limit: '500',
      ...(token === '' ? {} : { continue: token }),
    });
    const page = await admin.get<{ items: EventItem[]; metadata: { continue?: string } }>(
      `/apis/events.k8s.io/v1/namespaces/default/events?${query.toString()}`,
    );
    for (const event of page.items) {
      if (event.regarding?.kind !== 'CertificateSigningRequest') continue;
      const uid = event.regarding.uid ?? '';
      perUid.set(uid, (perUid.get(uid) ?? 0) + 1);
    }
    token = page.metadata.continue ?? '';
  } while (token !== '');
  return perUid;
}

interface CheckInput {
  readonly planned: readonly PlannedCsr[];
  readonly created: readonly (CreateResult | undefined)[];
  readonly observer: CsrObserver;
  readonly events: Map<string, number>;
  readonly approvalWrites: number;
}

interface Tally {
  doubleApprovals: number;
  wrongApprovals: number;
  validNotApproved: number;
  validDenied: number;
  validNotIssued: number;
  certificatesFailedVerification: number;
  invalidNotDenied: number;
  otherSignerTouched: number;
  eventsMissing: number;
  createErrors: number;
  decided: number;
  readonly denialReasons: Record<string, number>;
  readonly examples: string[];
}

function note(tally: Tally, text: string): void {
  if (tally.examples.length < 10) tally.examples.push(text);
}

function checkOtherSigner(tally: Tally, csr: PlannedCsr, seen: Observed): void {
  if (seen.approvedAt === undefined && seen.deniedAt === undefined) return;
  tally.otherSignerTouched++;
  note(tally, `${csr.name} (${csr.variant}) was decided`);
  if (seen.approvedAt !== undefined) tally.wrongApprovals++;
}

function checkInvalid(tally: Tally, csr: PlannedCsr, seen: Observed): void {
  if (seen.approvedAt !== undefined) {
    tally.wrongApprovals++;
    note(tally, `${csr.name} (${csr.variant}) was approved`);
  }
  if (seen.deniedAt === undefined) tally.invalidNotDenied++;
}

function checkValid(tally: Tally, csr: PlannedCsr, seen: Observed): void {
  if (seen.approvedAt === undefined) tally.validNotApproved++;
  if (seen.deniedAt !== undefined) {
    tally.validDenied++;
    note(tally, `${csr.name} denied: ${seen.deniedReason ?? ''}`);
  }
  if (seen.certificatePem === undefined) {
    tally.validNotIssued++;
    if (seen.failedAt !== undefined) note(tally, `${csr.name} failed: ${seen.failedReason ?? ''}`);
    return;
  }
  try {
    csr.emulator.verify(seen.certificatePem);
  } catch (error) {
    tally.certificatesFailedVerification++;
    note(tally, `${csr.name}: ${String(error)}`);
  }
}

/** Conditions and Events of one CSR: at most one of each, and an Event for every decision. */
function checkOnce(tally: Tally, csr: PlannedCsr, seen: Observed, events: number): void {
  const approved = seen.approvedConditions;
  if (approved > 1 || seen.deniedConditions > 1 || events > 1) {
    tally.doubleApprovals++;
    note(tally, `${csr.name}: ${approved} Approved, ${events} Events`);
  }
  if (seen.deniedAt !== undefined) {
    const reason = seen.deniedReason ?? '';
    tally.denialReasons[reason] = (tally.denialReasons[reason] ?? 0) + 1;
  }
  const decided = seen.approvedAt !== undefined || seen.deniedAt !== undefined;
  if (csr.kind !== 'other-signer' && decided) {
    tally.decided++;
    if (events === 0) tally.eventsMissing++;
  }
}

function checkCorrectness(input: CheckInput): Correctness {
  const tally: Tally = {
    doubleApprovals: 0,
    wrongApprovals: 0,
    validNotApproved: 0,
    validDenied: 0,
    validNotIssued: 0,
    certificatesFailedVerification: 0,
    invalidNotDenied: 0,
    otherSignerTouched: 0,
    eventsMissing: 0,
    createErrors: 0,
    decided: 0,
    denialReasons: {},
    examples: [],
  };
  input.planned.forEach((csr, i) => {
    const status = input.created[i]?.status;
    if (status !== 201) {
      tally.createErrors++;
      note(tally, `${csr.name}: create answered ${status ?? 'nothing'}`);
      return;
    }
    const seen = input.observer.byName.get(csr.name) ?? {
      approvedConditions: 0,
      deniedConditions: 0,
    };
    checkOnce(tally, csr, seen, seen.uid === undefined ? 0 : (input.events.get(seen.uid) ?? 0));
    if (csr.kind === 'other-signer') checkOtherSigner(tally, csr, seen);
    else if (csr.kind === 'invalid') checkInvalid(tally, csr, seen);
    else checkValid(tally, csr, seen);
  });
  const { decided, ...counts } = tally;
  return { ...counts, extraApprovalWrites: Math.max(0, input.approvalWrites - decided) };
}

function stagesOf(
  jobs: readonly JobTimes[],
  planned: readonly PlannedCsr[],
  created: readonly (CreateResult | undefined)[],
  observer: CsrObserver,
): Stages {
  const createdEpoch = new Map<string, number>();
  planned.forEach((csr, i) => {
    const at = created[i]?.createdAt;
    if (at !== undefined) createdEpoch.set(csr.name, performance.timeOrigin + at);
  });
  const perCsr = new Map<string, JobTimes[]>();
  for (const job of jobs) perCsr.set(job.csrName, [...(perCsr.get(job.csrName) ?? []), job]);
  const deciding = [...perCsr.values()].flatMap(list => {
    const decidedBy = list.filter(j => /^(approved|denied)/.test(j.outcome));
    return decidedBy.slice(0, 1);
  });
  const createdToEnqueued: number[] = [];
  const observedAfterFinish: number[] = [];
  for (const job of deciding) {
    const at = createdEpoch.get(job.csrName);
    if (at !== undefined) createdToEnqueued.push(job.enqueuedAt - at);
    const seen = observer.byName.get(job.csrName);
    const decidedAt = seen?.approvedAt ?? seen?.deniedAt;
    if (decidedAt !== undefined)
      observedAfterFinish.push(performance.timeOrigin + decidedAt - job.finishedAt);
  }
  return {
    createdToEnqueued: summarize(createdToEnqueued),
    queueWait: summarize(deciding.map(j => j.processedAt - j.enqueuedAt)),
    workerProcessing: summarize(deciding.map(j => j.finishedAt - j.processedAt)),
    observedAfterFinish: summarize(observedAfterFinish),
    jobsPerCsr: perCsr.size === 0 ? Number.NaN : jobs.length / perCsr.size,
    retriedJobs: jobs.filter(j => j.attempts > 1).length,
  };
}

function usage(before: Snapshot, after: Snapshot, decided: number): Record<string, ComponentUsage> {
  const out: Record<string, ComponentUsage> = {};
  const per1000 = (cpu: number): number => (decided > 0 ? (cpu * 1_000) / decided : Number.NaN);
  let ours = 0;
  for (const [name, end] of Object.entries(after.procs)) {
    const start = before.procs[name];
    if (end === undefined) continue;
    const cpu = end.cpuSeconds - (start?.cpuSeconds ?? 0);
    ours += cpu;
    out[name] = {
      cpuSeconds: cpu,
      cpuSecondsPer1000: per1000(cpu),
      peakRssMB: end.peakRssBytes / 2 ** 20,
    };
  }
  const others = Math.max(0, after.machine.busy - before.machine.busy - ours);
  out[OTHERS] = { cpuSeconds: others, cpuSecondsPer1000: per1000(others), peakRssMB: Number.NaN };
  return out;
}

function apiSummary(delta: ApiserverCounters, decided: number): ScenarioResult['api'] {
  const rows = byCall(delta);
  const approverPerCsr: Record<string, number> = {};
  let approverCalls = 0;
  for (const row of rows) {
    if (row.caller !== 'approver') continue;
    approverCalls += row.count;
    approverPerCsr[row.call] = decided > 0 ? row.count / decided : Number.NaN;
  }
  return {
    rows,
    approverPerCsr,
    approverCallsPerCsr: decided > 0 ? approverCalls / decided : Number.NaN,
    throttled429: rows.reduce((sum, row) => sum + row.throttled, 0),
    apfRejected: delta.apfRejected,
  };
}

function latencies(
  planned: readonly PlannedCsr[],
  created: readonly (CreateResult | undefined)[],
  observer: CsrObserver,
) {
  const approve: number[] = [];
  const deny: number[] = [];
  const issued: number[] = [];
  const approvedToIssued: number[] = [];
  const createRequest: number[] = [];
  planned.forEach((csr, i) => {
    const at = created[i]?.createdAt;
    const seen = observer.byName.get(csr.name);
    if (at === undefined || seen === undefined) return;
    createRequest.push(at - (created[i]?.sentAt ?? at));
    if (seen.approvedAt !== undefined) approve.push(seen.approvedAt - at);
    if (seen.deniedAt !== undefined && csr.kind !== 'other-signer') deny.push(seen.deniedAt - at);
    if (seen.issuedAt !== undefined) issued.push(seen.issuedAt - at);
    if (seen.issuedAt !== undefined && seen.approvedAt !== undefined)
      approvedToIssued.push(seen.issuedAt - seen.approvedAt);
  });
  return { approve, deny, issued, approvedToIssued, createRequest };
}

async function waitQueued(probe: RedisProbe, expected: number, deadline: number): Promise<number> {
  for (;;) {
    const queued = await probe.unfinished();
    if (queued >= expected || performance.now() > deadline) return queued;
    await sleep(200);
  }
}

/** Creates the CSRs of a prequeued scenario, waits until they are all queued, measures Redis. */
async function prequeue(
  ctx: RunContext,
  approver: RunningApprover,
  planned: readonly PlannedCsr[],
  timeoutMs: number,
): Promise<{
  created: (CreateResult | undefined)[];
  bytesPerQueuedCsr: number;
  sample?: { jobHash: number; dedupKey: number };
}> {
  const probe = approver.probe;
  if (probe === undefined) throw new Error('prequeued needs the stampede approver');
  const before = (await probe.memory()).used;
  const created = await runLoad(ctx, { kind: 'storm', count: planned.length }, planned);
  const expected = planned.filter(
    (c, i) => c.signerName === 'kubernetes.io/kubelet-serving' && created[i]?.status === 201,
  ).length;
  const deadline = performance.now() + timeoutMs;
  const queued = await waitQueued(probe, expected, deadline);
  await sleep(500); // let the watcher's last batch land
  const after = (await probe.memory()).used;
  ctx.log(`queued ${queued} jobs; Redis used_memory ${before} → ${after} bytes`);
  const sample = await probe.sampleJobBytes();
  return {
    created,
    bytesPerQueuedCsr: queued > 0 ? (after - before) / queued : Number.NaN,
    ...(sample ? { sample } : {}),
  };
}

async function cleanup(admin: KubeClient, spec: ScenarioSpec): Promise<void> {
  const selector = encodeURIComponent(`stampede.io/scenario=${spec.id}`);
  await admin.request('DELETE', `${CSR_PATH}?labelSelector=${selector}`);
  await admin.request('DELETE', '/apis/events.k8s.io/v1/namespaces/default/events');
}

/** Starts the kube-apiserver CPU profile if this is the scenario to profile. */
function maybeProfileApiserver(
  ctx: RunContext,
  spec: ScenarioSpec,
): Promise<GoProfile> | undefined {
  const wanted = ctx.apiserverProfile;
  if (wanted?.scenario !== spec.id) return undefined;
  const file = join(ctx.dir, `kube-apiserver-${spec.id}.pprof`);
  return profileApiserver(ctx.target.admin, wanted.seconds, file).catch((error: unknown) => ({
    file,
    seconds: wanted.seconds,
    top: `profile failed: ${String(error)}`,
    topCumulative: '',
  }));
}

export async function runScenario(ctx: RunContext, spec: ScenarioSpec): Promise<ScenarioResult> {
  const count =
    spec.load.kind === 'steady' ? Math.round(spec.load.rate * spec.load.seconds) : spec.load.count;
  ctx.log(`${spec.id}: ${spec.title}: preparing ${count} kubelets`);
  const t0 = performance.now();
  const planned = planCsrs({
    kubelets: ctx.target.kubelets,
    nodes: ctx.nodes,
    count,
    mix: spec.mix,
    runId: ctx.runId,
    scenario: spec.id,
  });
  const t1 = performance.now();
  if (keepsConnections(planned)) await warmConnections(planned);
  const t2 = performance.now();
  await Promise.all(ctx.cleanups.splice(0));
  const s = (a: number, b: number): string => `${((b - a) / 1_000).toFixed(1)} s`;
  ctx.log(
    `${spec.id}: requests and keys ${s(t0, t1)}, connections ${s(t1, t2)}, earlier cleanup ${s(t2, performance.now())}`,
  );
  const approver = await RunningApprover.start(spec.approver, {
    dir: ctx.dir,
    scenario: spec.id,
    kubeconfigs: ctx.approverKubeconfigs,
    log: ctx.log,
  });
  const observer = new CsrObserver(ctx.target.admin, ctx.runId);
  try {
    await observer.start();
    let created: (CreateResult | undefined)[] = [];
    let queuedBytes: Awaited<ReturnType<typeof prequeue>> | undefined;
    if (spec.load.kind === 'prequeued') {
      queuedBytes = await prequeue(ctx, approver, planned, spec.timeoutMs);
      created = queuedBytes.created;
    } else {
      await approver.startWorkers();
    }
    const components = componentsOf(ctx, approver);
    // Workers of a prequeued run start after the first snapshot, so their start-up is measured too.
    if (spec.load.kind === 'prequeued') components['workers'] = [];
    const before = await snapshot(ctx, components);
    const sampler = new CpuSampler(components);
    sampler.start();
    const clockStart = performance.now();
    ctx.log(`${spec.id}: clock started`);
    const goProfile = maybeProfileApiserver(ctx, spec);
    if (spec.load.kind === 'prequeued') {
      await approver.startWorkers();
      components['workers'] = approver.workers.map(w => w.pid);
    } else {
      created = await runLoad(ctx, spec.load, planned);
    }
    const settled = await waitSettled(observer, planned, created, clockStart + spec.timeoutMs);
    if (spec.mix.otherSigner > 0) await sleep(2_000); // time to (wrongly) touch the other signers' CSRs
    const after = await snapshot(ctx, components);
    const cpuSeries = sampler.stop();
    ctx.log(
      `${spec.id}: ${settled ? 'settled' : 'TIMED OUT'} after ${((after.at - clockStart) / 1_000).toFixed(1)} s`,
    );
    const checksStarted = performance.now();
    const jobs = (await approver.probe?.completedJobs()) ?? [];
    const redisAfter = await approver.probe?.memory();
    const { clients } = await approver.stop();
    const events = await approverEvents(ctx.target.admin);
    const delta = diffCounters(before.api, after.api);
    const approvalWrites = delta.requests
      .filter(r => r.subresource === 'approval' && r.verb === 'PUT' && r.code === '200')
      .reduce((sum, r) => sum + r.count, 0);
    const correctness = checkCorrectness({ planned, created, observer, events, approvalWrites });
    ctx.log(`${spec.id}: checks ${((performance.now() - checksStarted) / 1_000).toFixed(1)} s`);
    const apiserverProfile = await goProfile;
    const result = buildResult({
      spec,
      planned,
      created,
      observer,
      clockStart,
      before,
      after,
      cpuSeries,
      jobs,
      clients,
      correctness,
      delta,
      approver,
      settled,
      queuedBytes,
      redisAfter,
      nodes: ctx.nodes.length,
      ...(apiserverProfile === undefined ? {} : { apiserverProfile }),
    });
    return result;
  } finally {
    await observer.stop();
    await approver.stop();
    await approver.closeRedis();
    ctx.cleanups.push(
      cleanup(ctx.target.admin, spec).catch((error: unknown) => {
        ctx.log(`cleanup of ${spec.id}: ${String(error)}`);
      }),
    );
  }
}

interface BuildInput {
  readonly spec: ScenarioSpec;
  readonly planned: readonly PlannedCsr[];
  readonly created: readonly (CreateResult | undefined)[];
  readonly observer: CsrObserver;
  readonly clockStart: number;
  readonly before: Snapshot;
  readonly after: Snapshot;
  readonly cpuSeries: CpuSeries;
  readonly jobs: readonly JobTimes[];
  readonly clients: Record<string, ClientStats>;
  readonly correctness: Correctness;
  readonly delta: ApiserverCounters;
  readonly approver: RunningApprover;
  readonly nodes: number;
  readonly apiserverProfile?: GoProfile;
  readonly settled: boolean;
  readonly queuedBytes:
    { bytesPerQueuedCsr: number; sample?: { jobHash: number; dedupKey: number } } | undefined;
  readonly redisAfter: { used: number; peak: number } | undefined;
}

/** Kinds of the created CSRs and when each kubelet-serving one was decided and issued. */
function outcomeTimes(ok: readonly PlannedCsr[], observer: CsrObserver) {
  const kinds = { valid: 0, invalid: 0, otherSigner: 0 };
  const decisionTimes: number[] = [];
  const issuedTimes: number[] = [];
  for (const csr of ok) {
    if (csr.kind === 'other-signer') {
      kinds.otherSigner++;
      continue;
    }
    kinds[csr.kind]++;
    const seen = observer.byName.get(csr.name);
    const decidedAt = seen?.approvedAt ?? seen?.deniedAt;
    if (decidedAt !== undefined) decisionTimes.push(decidedAt);
    if (seen?.issuedAt !== undefined) issuedTimes.push(seen.issuedAt);
  }
  return { kinds, decisionTimes, issuedTimes };
}

function redisSummary(input: BuildInput, decided: number): ScenarioResult['redis'] {
  const approver = input.approver;
  const after = input.redisAfter;
  const queued = input.queuedBytes;
  return {
    emptyBytes: approver.redisEmptyBytes,
    indexBytesPerNode: (approver.redisIndexedBytes - approver.redisEmptyBytes) / input.nodes,
    ...(queued === undefined ? {} : { bytesPerQueuedCsr: queued.bytesPerQueuedCsr }),
    ...(queued?.sample === undefined ? {} : { sampleJob: queued.sample }),
    peakBytes: after?.peak ?? Number.NaN,
    afterRunBytesPerCsr:
      after === undefined || decided === 0
        ? Number.NaN
        : (after.used - approver.redisIndexedBytes) / decided,
  };
}

function clientsSummary(clients: Record<string, ClientStats>): ScenarioResult['clients'] {
  return Object.fromEntries(
    Object.entries(clients).map(([name, stats]) => [
      name,
      {
        ...stats,
        newConnectionsPer1000Calls:
          stats.requests > 0 ? (stats.connections * 1_000) / stats.requests : Number.NaN,
      },
    ]),
  );
}

/** Seconds from `from` to the latest of `times` (NaN for none). */
const secondsTo = (times: readonly number[], from: number): number =>
  times.length === 0 ? Number.NaN : (Math.max(...times) - from) / 1_000;

function cpuPerCsr(
  resources: Readonly<Record<string, ComponentUsage>>,
  decided: number,
): CpuPerCsr {
  const ms = (...names: string[]): number =>
    names.reduce((sum, name) => sum + (resources[name]?.cpuSeconds ?? 0), 0) * (1_000 / decided);
  const approver = ms('watcher', 'workers', 'baseline');
  const redis = ms('redis');
  const controlPlane = ms('kube-apiserver', 'etcd', 'kube-controller-manager');
  const generator = ms('load generator');
  const benchmark = approver + redis + controlPlane + generator;
  return { approver, redis, controlPlane, generator, benchmark, others: ms(OTHERS) };
}

function buildResult(input: BuildInput): ScenarioResult {
  const { spec, planned, created, observer, clockStart, before, after } = input;
  const ok = planned.filter((_, i) => created[i]?.status === 201);
  const { kinds, decisionTimes, issuedTimes } = outcomeTimes(ok, observer);
  const decided = decisionTimes.length;
  const createdTimes = created.flatMap(c => (c === undefined ? [] : [c.createdAt]));
  const lat = latencies(planned, created, observer);
  const toLastDecision = secondsTo(decisionTimes, clockStart);
  const machineSeconds = after.machine.total - before.machine.total;
  const redis = input.approver.redis === undefined ? undefined : redisSummary(input, decided);
  const resources = usage(before, after, decided);
  const perCsr = cpuPerCsr(resources, decided);
  return {
    id: spec.id,
    title: spec.title,
    approver: spec.approver,
    load: spec.load,
    mix: spec.mix,
    counts: { planned: planned.length, created: ok.length, ...kinds, decided },
    seconds: {
      creating: secondsTo(createdTimes, Math.min(...createdTimes)),
      toLastDecision,
      toLastIssued: secondsTo(issuedTimes, clockStart),
      total: (after.at - clockStart) / 1_000,
    },
    timedOut: !input.settled,
    latencyMs: {
      timeToApprove: summarize(lat.approve),
      timeToIssued: summarize(lat.issued),
      timeToDeny: summarize(lat.deny),
      approvedToIssued: summarize(lat.approvedToIssued),
      createRequest: summarize(lat.createRequest),
    },
    ...(spec.approver.kind === 'stampede'
      ? { stagesMs: stagesOf(input.jobs, planned, created, observer) }
      : {}),
    throughput: {
      sustainedDecisionsPerSecond: sustainedRate(decisionTimes),
      overallDecisionsPerSecond: decided / toLastDecision,
      sustainedIssuedPerSecond: sustainedRate(issuedTimes),
      series: {
        created: ratePerBin(createdTimes, clockStart),
        decided: ratePerBin(decisionTimes, clockStart),
        issued: ratePerBin(issuedTimes, clockStart),
      },
    },
    histogram: histogram(lat.approve),
    resources,
    machineBusy: (after.machine.busy - before.machine.busy) / machineSeconds,
    cpuMsPerCsr: perCsr,
    ourShareOfBusy: perCsr.benchmark / (perCsr.benchmark + perCsr.others),
    dedicatedCapacityPerSecond: 2_000 / perCsr.benchmark,
    cpuSeries: input.cpuSeries,
    api: apiSummary(input.delta, decided),
    clients: clientsSummary(input.clients),
    ...(redis === undefined ? {} : { redis }),
    profiles: input.approver.profiles().map(file => summarizeProfile(file)),
    ...(input.apiserverProfile === undefined ? {} : { apiserverProfile: input.apiserverProfile }),
    correctness: input.correctness,
  };
}
