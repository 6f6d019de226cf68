// The list/watch loop against a real control plane, with a TCP proxy in front of kube-apiserver
// to break connections. CSRs are served without the watch cache (--watch-cache-sizes …#0) so that
// an etcd compaction makes an old resourceVersion answer 410 Gone deterministically; Nodes keep
// the watch cache, which is what sends bookmarks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FaultyTcpProxy, KubeletEmulator, startControlPlane } from '@stampede/harness';
import type { ControlPlane } from '@stampede/harness';
import { createKubeClient, projectNodeAddresses, RetryableError } from '@stampede/kube';
import type { KubeClient, StoreChange } from '@stampede/kube';
import { kubeConfigFrom } from './support/kubeconfig.ts';
import { recordingLogger } from './support/logger.ts';
import { TcpProxy } from './support/tcp-proxy.ts';
import { eventually } from './support/wait.ts';

let cp: ControlPlane;
let proxy: TcpProxy;
let kube: KubeClient;
const logger = recordingLogger();
const fastBackoff = { initialMs: 100, maxMs: 1000 };

const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

async function createCsr(nodeName: string): Promise<string> {
  const kubelet = new KubeletEmulator({ nodeName, harness: cp });
  return (await kubelet.createCsr()).metadata.name;
}

/** Compacts etcd at its current revision: every older resourceVersion is now gone. */
async function compactEtcd(): Promise<void> {
  const post = async (path: string, body: object): Promise<unknown> => {
    const res = await fetch(`${cp.etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const text = await res.text();
    assert.equal(res.status, 200, `${path}: ${text}`);
    return JSON.parse(text) as unknown;
  };
  const range = (await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') })) as {
    header: { revision: string };
  };
  await post('/v3/kv/compaction', { revision: range.header.revision, physical: true });
}

before(async () => {
  cp = await startControlPlane({
    extraArgs: {
      apiserver: ['--watch-cache-sizes=certificatesigningrequests.certificates.k8s.io#0'],
    },
  });
  proxy = await TcpProxy.start({ host: '127.0.0.1', port: cp.ports.apiserver });
  kube = await createKubeClient({
    kubeConfig: kubeConfigFrom(
      await cp.approverKubeconfig(),
      `https://127.0.0.1:${String(proxy.port)}`,
    ),
    logger,
  });
});

after(async () => {
  await kube.close();
  await proxy.stop();
  await cp.stop();
});

describe('watchCsrs', () => {
  it('lists, signals synced, then sees new CSRs through the watch', async () => {
    const before = await createCsr('lw-before');
    const controller = new AbortController();
    let syncs = 0;
    const changes: StoreChange<string>[] = [];
    const watch = kube.watchCsrs({
      signal: controller.signal,
      project: csr => csr.metadata?.uid,
      onChange: change => changes.push(change),
      onSynced: () => syncs++,
      backoff: fastBackoff,
    });
    await watch.synced();
    assert.equal(syncs, 1);
    assert.ok(watch.store.has(before));
    const later = await createCsr('lw-later');
    await eventually('the new CSR in the store', () => watch.store.has(later));
    assert.ok(changes.some(c => c.type === 'added' && c.key === later));
    controller.abort();
    await watch.done;
    assert.equal(watch.stats().connected, false);
  });

  it('relists after 410 Gone and reports what was deleted meanwhile', async () => {
    const doomed = await createCsr('lw-doomed');
    const controller = new AbortController();
    const deleted: string[] = [];
    let syncs = 0;
    const watch = kube.watchCsrs({
      signal: controller.signal,
      project: csr => csr.metadata?.uid,
      onChange: change => {
        if (change.type === 'deleted') deleted.push(change.key);
      },
      onSynced: () => syncs++,
      backoff: fastBackoff,
    });
    await watch.synced();
    await eventually('the watch to connect', () => watch.stats().connected);
    await proxy.pause();
    await cp.admin.request('DELETE', `${csrPath}/${doomed}`);
    const born = await createCsr('lw-born');
    await compactEtcd();
    await proxy.resume();
    await eventually('the relist', () => watch.store.has(born) && !watch.store.has(doomed));
    const stats = watch.stats();
    assert.ok(stats.expired >= 1, JSON.stringify(stats));
    assert.ok(stats.lists >= 2, JSON.stringify(stats));
    assert.equal(syncs, stats.lists);
    assert.deepEqual(deleted, [doomed]);
    controller.abort();
    await watch.done;
  });

  it('stops when aborted before the first sync, and synced() rejects', async () => {
    await proxy.pause();
    try {
      const controller = new AbortController();
      const watch = kube.watchCsrs({
        signal: controller.signal,
        project: () => 1,
        backoff: fastBackoff,
      });
      await eventually('a failed attempt', () => watch.stats().restarts >= 1);
      controller.abort(new Error('shutting down'));
      await watch.done;
      await assert.rejects(watch.synced(), /shutting down/);
      assert.equal(watch.stats().synced, false);
    } finally {
      await proxy.resume();
    }
  });
});

describe('watchNodes', () => {
  const faults: { name: string; fault: () => Promise<void> }[] = [
    {
      name: 'keeps the store current across a cut connection',
      fault: async () => {
        proxy.cut();
        await Promise.resolve();
      },
    },
    {
      name: 'keeps the store current across 3 s of an unreachable API server',
      fault: async () => {
        await proxy.pause();
        await new Promise(resolve => setTimeout(resolve, 3000));
        await proxy.resume();
      },
    },
  ];
  let n = 0;
  for (const c of faults) {
    it(c.name, async () => {
      const prefix = `fault-${String(++n)}`;
      await cp.createNode(`${prefix}-a`);
      const controller = new AbortController();
      let connects = 0;
      const watch = kube.watchNodes({
        signal: controller.signal,
        project: projectNodeAddresses,
        onConnect: () => connects++,
        backoff: fastBackoff,
      });
      await watch.synced();
      await eventually('the watch to connect', () => watch.stats().connected);
      const during = c.fault();
      await cp.createNode(`${prefix}-b`, [{ type: 'InternalIP', address: '10.9.9.9' }]);
      await during;
      await eventually('the node created during the fault', () => watch.store.has(`${prefix}-b`));
      assert.deepEqual(watch.store.get(`${prefix}-b`)?.addresses, [
        { type: 'InternalIP', address: '10.9.9.9' },
      ]);
      const stats = watch.stats();
      assert.ok(stats.restarts >= 1, JSON.stringify(stats));
      assert.ok(connects >= 2, String(connects));
      controller.abort();
      await watch.done;
    });
  }

  it('drops a watch silent past its idle limit and watches again, so a stalled connection hides no Node', async () => {
    // F20 of the fault catalogue: the connection stays open and says nothing, with no error.
    const zombie = await FaultyTcpProxy.start(cp.ports.apiserver);
    const client = await createKubeClient({
      kubeConfig: kubeConfigFrom(
        await cp.approverKubeconfig(),
        `https://127.0.0.1:${String(zombie.port)}`,
      ),
      logger,
    });
    const controller = new AbortController();
    try {
      const watch = client.watchNodes({
        signal: controller.signal,
        project: projectNodeAddresses,
        backoff: fastBackoff,
        idleTimeoutMs: 2_000,
      });
      await watch.synced();
      await eventually('the watch to connect', () => watch.stats().connected);
      assert.ok(zombie.freeze() >= 1, 'the watch connection frozen');
      await cp.createNode('behind-a-stalled-watch');
      // Well under the server-side watch timeout (240-300 s) that otherwise ends the stall.
      await eventually('the node created behind the stall', () =>
        watch.store.has('behind-a-stalled-watch'),
      );
      const stats = watch.stats();
      assert.ok(stats.restarts >= 1, JSON.stringify(stats));
      assert.equal(stats.lists, 1, 'watched again from its resourceVersion, not relisted');
    } finally {
      controller.abort();
      await client.close();
      await zombie.close();
    }
  });

  it('advances its resourceVersion through bookmarks and rewatches, without relisting, when the server ends the watch', async () => {
    // Bookmarks carry progress the selector hides: only a newer resourceVersion is bookmarked.
    const controller = new AbortController();
    const watch = kube.watchNodes({
      signal: controller.signal,
      labelSelector: 'stampede.test/bookmarks=yes',
      project: projectNodeAddresses,
      watchTimeoutSeconds: [4, 4],
      backoff: fastBackoff,
    });
    await watch.synced();
    const listed = Number(watch.stats().resourceVersion);
    await eventually('the watch to connect', () => watch.stats().connected);
    await cp.createNode('unlabelled-for-bookmarks');
    await eventually(
      'a bookmark and a restart',
      () => {
        const s = watch.stats();
        return s.bookmarks >= 1 && s.restarts >= 1;
      },
      { timeoutMs: 20_000 },
    );
    const stats = watch.stats();
    assert.ok(Number(stats.resourceVersion) > listed, JSON.stringify(stats));
    assert.equal(stats.events, 0);
    assert.equal(stats.lists, 1);
    assert.equal(stats.expired, 0);
    assert.equal(watch.store.size, 0);
    controller.abort();
    await watch.done;
  });

  it('reports progress only once the store holds the change at that version', async () => {
    const controller = new AbortController();
    const seen: { rv: string; stored: boolean }[] = [];
    const watch = kube.watchNodes({
      signal: controller.signal,
      project: projectNodeAddresses,
      onProgress: rv => {
        seen.push({ rv, stored: watch.store.has('progress-node') });
      },
    });
    await watch.synced();
    assert.ok(seen.length >= 1, 'progress after the LIST');
    const created = await cp.createNode('progress-node');
    const rv = created.metadata.resourceVersion ?? '';
    await eventually('progress at the created version', () =>
      seen.some(s => BigInt(s.rv) >= BigInt(rv)),
    );
    const first = seen.find(s => BigInt(s.rv) >= BigInt(rv));
    assert.equal(first?.stored, true, JSON.stringify(seen));
    controller.abort();
    await watch.done;
  });

  it('keeps only the projection of each Node', async () => {
    const controller = new AbortController();
    const watch = kube.watchNodes({ signal: controller.signal, project: projectNodeAddresses });
    await watch.synced();
    for (const value of watch.store.values()) {
      assert.deepEqual(Object.keys(value).sort(), ['addresses', 'name', 'uid']);
    }
    controller.abort();
    await watch.done;
  });
});

describe('unary calls through a broken network', () => {
  const cases: {
    name: string;
    fault: () => Promise<void>;
    heal: () => Promise<void>;
    kind: string;
  }[] = [
    {
      name: 'reports a refused connection as a retryable network error',
      fault: () => proxy.pause(),
      heal: () => proxy.resume(),
      kind: 'network',
    },
    {
      name: 'reports a silent API server as a retryable timeout',
      fault: () => {
        proxy.stalled = true;
        proxy.cut();
        return Promise.resolve();
      },
      heal: () => {
        proxy.stalled = false;
        proxy.cut();
        return Promise.resolve();
      },
      kind: 'timeout',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const client = await createKubeClient({
        kubeConfig: kubeConfigFrom(
          await cp.approverKubeconfig(),
          `https://127.0.0.1:${String(proxy.port)}`,
        ),
        logger,
        requestTimeoutMs: 500,
      });
      try {
        await c.fault();
        const started = Date.now();
        await assert.rejects(
          client.getNode('any'),
          (error: unknown) =>
            error instanceof RetryableError && error.kind === c.kind && error.status === undefined,
        );
        assert.ok(Date.now() - started < 5000, 'the request timeout bounds the wait');
        await c.heal();
        assert.equal(await client.getNode('still-absent'), undefined);
      } finally {
        await c.heal();
        await client.close();
      }
    });
  }
});
