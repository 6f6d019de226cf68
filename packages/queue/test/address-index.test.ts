// The Node address index on a real redis-server: convergence under out-of-order writes from two
// watchers, tombstones, full syncs, and the "not synced" state after a flush.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis } from '@stampede/harness';
import type { RedisServer } from '@stampede/harness';
import { createAddressIndex, createRedisConnection, waitForReady } from '@stampede/queue';
import type { AddressIndex, IndexedNode } from '@stampede/queue';

const node = (name: string, rv: string, keys: string[], createdAtMs = 1_000): IndexedNode => ({
  name,
  resourceVersion: rv,
  createdAtMs,
  keys,
});

describe('address index on a real Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  let index: AddressIndex;

  before(async () => {
    server = await startRedis();
    redis = createRedisConnection({ url: server.url, role: 'worker', name: 'index' });
    redis.on('error', () => undefined);
    await waitForReady(redis, 5_000);
    index = createAddressIndex(redis);
  });
  beforeEach(async () => {
    await redis.flushall();
    await index.sync([], '1', 60_000);
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  const claimants = async (key: string) => {
    const result = await index.lookup([key]);
    assert.ok(result.synced);
    return [...(result.claimants.get(key) ?? [])].sort((a, b) => a.node.localeCompare(b.node));
  };

  it('lists every Node that reports an address, with its creation time', async () => {
    await index.put(node('a', '10', ['ip:10.0.0.1', 'dns:a'], 1_000));
    await index.put(node('b', '11', ['ip:10.0.0.1', 'dns:b'], 2_000));
    assert.deepEqual(await claimants('ip:10.0.0.1'), [
      { node: 'a', createdAtMs: 1_000 },
      { node: 'b', createdAtMs: 2_000 },
    ]);
    assert.deepEqual(await claimants('dns:b'), [{ node: 'b', createdAtMs: 2_000 }]);
    assert.deepEqual(await claimants('ip:10.9.9.9'), []);
  });

  it('drops an address a Node no longer reports', async () => {
    await index.put(node('a', '10', ['ip:10.0.0.1']));
    await index.put(node('a', '12', ['ip:10.0.0.2']));
    assert.deepEqual(await claimants('ip:10.0.0.1'), []);
    assert.deepEqual(await claimants('ip:10.0.0.2'), [{ node: 'a', createdAtMs: 1_000 }]);
  });

  it('ignores a write older than the stored one, so two watchers converge in any order', async () => {
    assert.equal(await index.put(node('a', '12', ['ip:10.0.0.2'])), true);
    assert.equal(await index.put(node('a', '9', ['ip:10.0.0.1'])), false);
    assert.equal(await index.put(node('a', '12', ['ip:10.0.0.1'])), false);
    assert.deepEqual(await claimants('ip:10.0.0.1'), []);
  });

  it('compares resourceVersions as numbers of any length', async () => {
    await index.put(node('a', '99', ['ip:10.0.0.1']));
    assert.equal(await index.put(node('a', '100', ['ip:10.0.0.2'])), true);
    await index.put(node('b', '18446744073709551615', ['ip:10.0.0.3']));
    assert.equal(await index.put(node('b', '18446744073709551614', ['ip:10.0.0.4'])), false);
  });

  it('keeps a deleted Node deleted when a late update arrives', async () => {
    await index.put(node('a', '10', ['ip:10.0.0.1']));
    assert.equal(await index.remove('a', '15'), true);
    assert.equal(await index.put(node('a', '14', ['ip:10.0.0.1'])), false);
    assert.deepEqual(await claimants('ip:10.0.0.1'), []);
    assert.equal(await index.put(node('a', '16', ['ip:10.0.0.1'])), true, 're-created later');
  });

  it('removes a Node at the last version it was seen with, and keeps a newer one', async () => {
    await index.put(node('a', '10', ['ip:10.0.0.1']));
    assert.equal(await index.remove('a', '10'), true);
    assert.equal(await index.put(node('a', '10', ['ip:10.0.0.1'])), false, 'a late duplicate');
    await index.put(node('b', '20', ['ip:10.0.0.2']));
    assert.equal(await index.remove('b', '19'), false);
    assert.deepEqual(await claimants('ip:10.0.0.2'), [{ node: 'b', createdAtMs: 1_000 }]);
  });

  it('makes the index equal to a full list, removing Nodes the list no longer has', async () => {
    await index.put(node('gone', '5', ['ip:10.0.0.9']));
    await index.put(node('kept', '6', ['ip:10.0.0.1']));
    const result = await index.sync([node('kept', '6', ['ip:10.0.0.1'])], '20', 60_000);
    assert.deepEqual(result, { written: 0, removed: 1 });
    assert.deepEqual(await claimants('ip:10.0.0.9'), []);
  });

  it('does not remove a Node created after the list a sync is based on', async () => {
    await index.put(node('newer', '30', ['ip:10.0.0.5']));
    await index.sync([], '20', 60_000);
    assert.deepEqual(await claimants('ip:10.0.0.5'), [{ node: 'newer', createdAtMs: 1_000 }]);
  });

  it('reports not synced after a flush until a watcher syncs again', async () => {
    await redis.flushall();
    assert.deepEqual(await index.lookup(['ip:10.0.0.1']), { synced: false });
    await index.sync([node('a', '3', ['ip:10.0.0.1'])], '3', 60_000);
    assert.equal((await index.lookup(['ip:10.0.0.1'])).synced, true);
  });

  it('reports not synced when the sync marker expired', async () => {
    await index.sync([], '3', 50);
    await new Promise(resolve => setTimeout(resolve, 80));
    assert.deepEqual(await index.lookup([]), { synced: false });
  });

  it('keeps memory per Node small (measured over 2,000 Nodes with 3 addresses each)', async () => {
    await redis.flushall();
    const before = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const nodes = Array.from({ length: 2_000 }, (_, i) =>
      node(`ip-10-${i >> 8}-${i & 255}.eu-west-1.compute.internal`, String(1_000 + i), [
        `dns:ip-10-${i >> 8}-${i & 255}.eu-west-1.compute.internal`,
        `ip:10.1.${i >> 8}.${i & 255}`,
        `ip:54.1.${i >> 8}.${i & 255}`,
      ]),
    );
    await index.sync(nodes, '5000', 60_000);
    const after = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const perNode = (after - before) / nodes.length;
    process.stdout.write(
      `# address index: ${Math.round(perNode)} bytes of Redis memory per Node\n`,
    );
    assert.ok(perNode < 2_048, `${perNode} bytes per Node`);
  });
});
