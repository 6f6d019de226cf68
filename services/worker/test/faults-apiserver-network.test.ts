// Faults of the network between stampede and kube-apiserver, through a TCP proxy in front of it
// (the API server itself serves on): F20, the watcher's CSR watch stalls without a word (the
// connection open and silent, as after a lost NAT or conntrack entry); F30, every API call of the
// workers slow, past the client's request timeout. Judged by the API server's audit log (the
// harness's fault-mix.ts): each CSR decided once, none wrongly.
import assert from 'node:assert/strict';
import { get } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSettled, AuditLog, FaultFleet, FaultyTcpProxy, System } from '@stampede/harness';

describe("faults between stampede and kube-apiserver's network", () => {
  let system: System;
  let fleet: FaultFleet;
  const audit = new AuditLog();

  before(async () => {
    system = await System.start({
      controlPlane: { extraArgs: { apiserver: audit.apiserverArgs } },
    });
    fleet = new FaultFleet(system);
  });

  after(async () => {
    await system.stopAll();
    audit.remove();
  });

  /** A kubeconfig for `service`'s ServiceAccount that reaches the API server through `proxy`. */
  async function through(proxy: FaultyTcpProxy, service: 'watcher' | 'worker'): Promise<string> {
    return system.cp.writeKubeconfig(`${service}-via-proxy-${String(proxy.port)}`, {
      server: `https://127.0.0.1:${String(proxy.port)}`,
      caPem: system.cp.clusterCaPem,
      token: await system.cp.serviceToken(service),
    });
  }

  /** One GET /livez through `proxy`, in ms: proof that the fault is in force. */
  async function livezMs(proxy: FaultyTcpProxy): Promise<number> {
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      get(`https://127.0.0.1:${String(proxy.port)}/livez`, { ca: system.cp.clusterCaPem }, res => {
        res.resume().on('end', resolve);
      }).on('error', reject);
    });
    return performance.now() - started;
  }

  async function stopServices(): Promise<void> {
    // SIGKILL: a service still waiting on the proxy would wait out its shutdown deadline.
    const running = system.services.filter(s => s.child.exitCode === null && !s.child.killed);
    await Promise.all(running.map(service => system.kill(service)));
  }

  it('F20: a CSR watch silent for WATCH_IDLE_TIMEOUT_SECONDS is dropped and what was filed meanwhile is decided', async () => {
    // Without the idle limit the stall hid every new CSR until the body timeout past the
    // server-side watch timeout (300-360 s) or the next full LIST (600 s; the harness's watcher
    // lists once an hour); the watch cache resync only replays what the cache has.
    const proxy = await FaultyTcpProxy.start(system.cp.ports.apiserver);
    try {
      await system.start('watcher', {
        KUBECONFIG_PATH: await through(proxy, 'watcher'),
        WATCH_IDLE_TIMEOUT_SECONDS: '5',
      });
      await system.start('worker');
      await assertSettled(system, audit, await fleet.mix('f20-before', 5), 30_000);
      const frozen = proxy.freeze();
      const frozenAt = performance.now();
      assert.ok(frozen >= 1, `${String(frozen)} connections frozen`);
      const mix = await fleet.mix('f20', 10);
      // The limit is 5 s; the rest is margin, far under the 300 s of a stall without it.
      await assertSettled(system, audit, mix, 30_000);
      const seconds = (performance.now() - frozenAt) / 1000;
      process.stdout.write(`# F20: all decided ${seconds.toFixed(1)} s after the freeze\n`);
      assert.ok(proxy.connections >= 1, 'the watcher watched again through the proxy');
    } finally {
      await stopServices();
      await proxy.close();
    }
  });

  it("F30: the workers' API calls 12 s slower for 25 s (past the 10 s request timeout) decide every CSR once and none wrongly", async () => {
    // A write can land while its client has given up on it: the retry must find it decided
    // (a 409 or the condition already there), never write a second decision.
    const proxy = await FaultyTcpProxy.start(system.cp.ports.apiserver);
    try {
      await system.start('watcher');
      await system.start('worker', { KUBECONFIG_PATH: await through(proxy, 'worker') });
      await assertSettled(system, audit, await fleet.mix('f30-before', 5), 30_000);
      proxy.latency(6_000, 500);
      const mix = await fleet.mix('f30', 10);
      const slow = await livezMs(proxy);
      assert.ok(slow >= 10_000, `a round trip through the proxy took ${slow.toFixed(0)} ms`);
      await sleep(25_000 - slow);
      proxy.latency(0);
      await assertSettled(system, audit, mix, 90_000);
    } finally {
      await stopServices();
      await proxy.close();
    }
  });
});
