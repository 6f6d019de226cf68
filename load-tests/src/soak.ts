// The chaos soak: a fleet keeps filing CSRs (valid ones and the kinds that must never be approved,
// plus another signer's) while faults from the catalogue are injected one after another at random
// (seeded): services SIGKILLed, Redis SIGKILLed, flushed, frozen or slowed, the API server and etcd
// crashed, the API server frozen or answering the workers 429. After each fault a probe CSR is
// filed; the time until it is approved is the recovery time. At the end the API server's audit log is checked for the whole run: every valid CSR
// approved once, every invalid one denied once, nothing written to the other signer's.
import {
  AuditLog,
  FaultFleet,
  FaultyTcpProxy,
  rejectRequestsOf,
  System,
  summarize,
  violations,
} from '@stampede/harness';
import type { InvariantReport, Mix, ServiceProcess } from '@stampede/harness';

export interface SoakOptions {
  readonly minutes: number;
  /** Seeds the order of faults, so a run can be repeated. */
  readonly seed: number;
  /** Seconds from one fault's end to the next one's start (default 15). */
  readonly faultGapSeconds?: number;
  /** Go on past `minutes` until every kind of fault has been injected once (the suite's short run). */
  readonly everyKind?: boolean;
  readonly log?: (line: string) => void;
}

export interface InjectedFault {
  readonly kind: string;
  /** Seconds since the start of the soak. */
  readonly at: number;
  /** From the fault's end until a CSR filed then was approved; undefined if it never was. */
  readonly recoverySeconds: number | undefined;
}

export interface SoakReport {
  readonly minutes: number;
  readonly seed: number;
  readonly faults: readonly InjectedFault[];
  readonly csrs: number;
  readonly invariants: InvariantReport;
  readonly violations: readonly string[];
  readonly maxRecoverySeconds: number | undefined;
}

/** A small deterministic generator (mulberry32): the same seed, the same faults. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Every kind once in a random order, then again in another: a short soak still meets each one. */
function* shuffledRounds(kinds: readonly string[], next: () => number): Generator<string, never> {
  for (;;) {
    const round = [...kinds];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [round[i], round[j]] = [round[j] ?? '', round[i] ?? ''];
    }
    yield* round;
  }
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

interface Stage {
  readonly system: System;
  readonly proxy: FaultyTcpProxy;
  readonly viaProxy: Readonly<Record<string, string>>;
}

/** Each fault: injects, waits it out, and returns once the fault itself is over. */
const FAULTS: Readonly<Record<string, (stage: Stage) => Promise<void>>> = {
  'worker SIGKILL': async ({ system, viaProxy }) => {
    const worker = running(system, 'worker')[0];
    if (worker !== undefined) await system.kill(worker);
    await system.start('worker', viaProxy, { waitReady: false });
  },
  'watcher SIGKILL': async ({ system, viaProxy }) => {
    const watcher = running(system, 'watcher')[0];
    if (watcher !== undefined) await system.kill(watcher);
    await system.start('watcher', viaProxy, { waitReady: false });
  },
  'Redis SIGKILL': async ({ system }) => {
    await system.redis.kill();
    await sleep(2_000);
    await system.redis.start();
  },
  'Redis flushed': async ({ system }) => {
    await system.redis.flush();
  },
  'Redis connections frozen (zombie sockets)': ({ proxy }) => {
    proxy.freeze();
    return Promise.resolve();
  },
  'Redis 1 s slower each way for 10 s': async ({ proxy }) => {
    proxy.latency(1_000, 250);
    await sleep(10_000);
    proxy.latency(0);
  },
  'kube-apiserver SIGKILL': async ({ system }) => {
    await system.cp.restartApiserver({ signal: 'SIGKILL', downMs: 1_000 });
  },
  'etcd SIGKILL': async ({ system }) => {
    await system.cp.restartEtcd({ signal: 'SIGKILL', downMs: 1_000 });
  },
  'kube-apiserver answers the workers 429 for 10 s': async ({ system }) => {
    const open = await rejectRequestsOf(system.cp, 'worker');
    try {
      await sleep(10_000);
    } finally {
      await open();
    }
  },
  'kube-apiserver frozen 5 s': async ({ system }) => {
    const pid = system.cp.pids.apiserver;
    if (pid === undefined) return;
    process.kill(pid, 'SIGSTOP');
    try {
      await sleep(5_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  },
};

function running(system: System, kind: ServiceProcess['kind']): ServiceProcess[] {
  return system.services.filter(
    s => s.kind === kind && s.child.exitCode === null && !s.child.killed,
  );
}

/** Seconds until `name` is Approved, polled from the API server; undefined after `timeoutMs`. */
async function secondsUntilApproved(
  system: System,
  name: string,
  timeoutMs: number,
): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    try {
      const csr = await system.cp.getCsr(name);
      if (csr.status?.conditions?.some(c => c.type === 'Approved') === true)
        return (performance.now() - started) / 1000;
    } catch {
      // The API server may be coming back: ask again.
    }
    await sleep(250);
  }
  return undefined;
}

/** The fleet: a small mix every 3 s until stopped, whatever the faults are doing. */
function fileContinuously(fleet: FaultFleet, filed: Mix[], log: (line: string) => void) {
  const state = { stopped: false };
  const done = (async () => {
    for (let round = 0; !state.stopped; round++) {
      try {
        filed.push(await fleet.mix(`soak-${String(round)}`, 2));
      } catch (error) {
        // The API server is down for a moment: the fleet, like a kubelet, tries again later.
        log(`# soak: filing paused (${error instanceof Error ? error.message : String(error)})`);
      }
      await sleep(3_000);
    }
  })();
  return {
    stop: async () => {
      state.stopped = true;
      await done;
    },
  };
}

/** One fault, then a probe CSR filed the moment it is over: how long until it is approved. */
async function injectOne(
  { stage, fleet, filed }: { stage: Stage; fleet: FaultFleet; filed: Mix[] },
  kind: string,
  probe: string,
): Promise<number | undefined> {
  await FAULTS[kind]?.(stage);
  const mix = await fleet.valid(probe, 1);
  filed.push(mix);
  return secondsUntilApproved(stage.system, mix.members[0]?.csr.metadata.name ?? '', 60_000);
}

/** Every kind of fault the soak injects. */
export const SOAK_FAULT_KINDS: readonly string[] = Object.keys(FAULTS);

async function injectUntil(
  stage: Stage,
  fleet: FaultFleet,
  filed: Mix[],
  options: SoakOptions & { readonly endAt: number; readonly elapsed: () => number },
): Promise<InjectedFault[]> {
  const log = options.log ?? (() => undefined);
  const kinds = Object.keys(FAULTS);
  const order = shuffledRounds(kinds, random(options.seed));
  const faults: InjectedFault[] = [];
  for (;;) {
    await sleep((options.faultGapSeconds ?? 15) * 1_000);
    // The first round holds every kind once.
    const roundDone = options.everyKind !== true || faults.length >= kinds.length;
    if (performance.now() >= options.endAt && roundDone) return faults;
    const kind = order.next().value;
    const at = options.elapsed();
    log(`# soak: ${at.toFixed(0)} s: ${kind}`);
    let recoverySeconds: number | undefined;
    try {
      recoverySeconds = await injectOne(
        { stage, fleet, filed },
        kind,
        `soak-probe-${String(faults.length)}`,
      );
    } catch (error) {
      log(`# soak: probe not filed (${error instanceof Error ? error.message : String(error)})`);
    }
    faults.push({ kind, at, recoverySeconds });
    log(`# soak: recovered from ${kind} in ${recoverySeconds?.toFixed(1) ?? 'never'} s`);
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const audit = new AuditLog();
  const system = await System.start({
    controlPlane: { extraArgs: { apiserver: audit.apiserverArgs } },
  });
  const proxy = await FaultyTcpProxy.start(system.redis.port);
  const stage = {
    system,
    proxy,
    viaProxy: { REDIS_URL: `redis://127.0.0.1:${String(proxy.port)}` },
  };
  const fleet = new FaultFleet(system);
  const filed: Mix[] = [];
  const started = performance.now();
  // A run that broke an invariant keeps its audit log, API server and service logs for reading.
  let keep = true;
  try {
    await system.start('watcher', stage.viaProxy);
    await Promise.all([
      system.start('worker', stage.viaProxy),
      system.start('worker', stage.viaProxy),
    ]);
    const filing = fileContinuously(fleet, filed, log);
    const faults = await injectUntil(stage, fleet, filed, {
      ...options,
      endAt: started + options.minutes * 60_000,
      elapsed: () => (performance.now() - started) / 1000,
    });
    await filing.stop();
    const all = filed.reduce((a, b) => a.with(b));
    const finals = async () => [...(await system.csrs()).values()];
    const invariants = await audit.settle(all.expectations, { timeoutMs: 120_000, finals });
    log(`# soak audit: ${summarize(invariants)}`);
    keep = violations(invariants).length > 0;
    const recoveries = faults.flatMap(f =>
      f.recoverySeconds === undefined ? [] : [f.recoverySeconds],
    );
    return {
      minutes: options.minutes,
      seed: options.seed,
      faults,
      csrs: all.members.length,
      invariants,
      violations: violations(invariants),
      maxRecoverySeconds: recoveries.length === 0 ? undefined : Math.max(...recoveries),
    };
  } finally {
    await system.stopAll({ keep });
    await proxy.close();
    if (keep) {
      audit.keep();
      log(`# soak: kept the audit log ${audit.path} and the logs in ${system.dir}`);
    } else audit.remove();
  }
}
