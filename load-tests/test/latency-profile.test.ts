// The latency-bound profile's two settings, checked on the control plane they configure: etcd
// fsyncs its WAL (counted by etcd itself), and the approvers' kubeconfigs lead through the delay
// (a request made with the worker's own kubeconfig and client takes the added round trip).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createKubeClient, loadKubeConfig } from '@stampede/kube';
import { harnessTarget, median } from '@stampede/load-tests';
import type { Target } from '@stampede/load-tests';

// Large against the jitter of a busy 2-core machine, where a direct round trip can take 15 ms.
const LATENCY_MS = 40;
const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

async function walFsyncs(etcdUrl: string): Promise<number> {
  const text = await (await fetch(`${etcdUrl}/metrics`)).text();
  const line = /^etcd_disk_wal_fsync_duration_seconds_count (\d+)/m.exec(text);
  return Number(line?.[1] ?? 0);
}

describe('the latency-bound profile', () => {
  let target: Target;
  before(async () => {
    target = await harnessTarget({ etcdFsync: true, approverLatencyMs: LATENCY_MS });
  });
  after(() => target.stop());

  it('makes etcd fsync its WAL on every write', async () => {
    const etcdUrl = target.controlPlane?.etcdUrl ?? '';
    const before = await walFsyncs(etcdUrl);
    for (let i = 0; i < 20; i++) {
      await target.admin.post('/api/v1/namespaces/default/configmaps', {
        metadata: { name: `fsync-${i}` },
      });
    }
    assert.ok((await walFsyncs(etcdUrl)) - before >= 20, 'fewer WAL fsyncs than writes');
  });

  it('holds every request the worker makes with its own kubeconfig by the added round trip', async () => {
    const kubeconfigs = await target.approverKubeconfigs();
    const kube = await createKubeClient({
      kubeConfig: loadKubeConfig({ path: kubeconfigs.worker }),
      logger: silent,
    });
    try {
      await kube.getNode('warm-the-connection');
      const times: number[] = [];
      for (let i = 0; i < 11; i++) {
        const t = performance.now();
        await kube.getNode('no-such-node');
        times.push(performance.now() - t);
      }
      const trips = await target.roundTrips?.();
      assert.ok(trips !== undefined);
      // Each way is held LATENCY_MS: a round trip takes at least two of them.
      assert.ok(median(times) >= 2 * LATENCY_MS, `worker's median round trip ${median(times)} ms`);
      assert.ok(trips.approverMs >= 2 * LATENCY_MS, `approvers' round trip ${trips.approverMs} ms`);
      assert.ok(
        trips.directMs + LATENCY_MS <= trips.approverMs,
        `direct round trip ${trips.directMs} ms, the approvers' ${trips.approverMs} ms`,
      );
    } finally {
      await kube.close();
    }
  });
});
