// The Node view over a fake list/watch that the test drives: claims follow the changes, and
// caughtUp() answers only once the view has applied the version asked for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ListWatch, ListWatchOptions, ListWatchStats, Node } from '@stampede/kube';
import type { NodeClaims } from './claims-index.ts';
import { projectNodeClaims, startNodeView } from './node-view.ts';

const wire = (name: string, rv: string, ip: string): Node => ({
  metadata: { name, resourceVersion: rv, creationTimestamp: '2026-01-01T00:00:00Z' },
  status: { addresses: [{ type: 'InternalIP', address: ip }] },
});

function drive() {
  let options: ListWatchOptions<Node, NodeClaims> | undefined;
  const store = new Map<string, NodeClaims>();
  const stats = { synced: false } as ListWatchStats;
  const fake = {
    watchNodes: <P>(o: ListWatchOptions<Node, P>): ListWatch<P> => {
      options = o as unknown as ListWatchOptions<Node, NodeClaims>;
      return {
        store: store as unknown as ReadonlyMap<string, P>,
        stats: () => stats,
        synced: () => Promise.resolve(),
        done: Promise.resolve(),
      };
    },
  };
  const view = startNodeView({ kube: fake, signal: new AbortController().signal });
  const opts = (): ListWatchOptions<Node, NodeClaims> => {
    assert.ok(options);
    return options;
  };
  return {
    view,
    upsert: (node: Node): void => {
      const name = node.metadata?.name ?? '';
      const value = projectNodeClaims(node);
      assert.ok(value);
      const previous = store.get(name);
      store.set(name, value);
      opts().onChange?.(
        previous === undefined
          ? { type: 'added', key: name, value }
          : { type: 'updated', key: name, value, previous },
      );
      opts().onProgress?.(node.metadata?.resourceVersion ?? '');
    },
    remove: (name: string, rv: string): void => {
      const previous = store.get(name);
      assert.ok(previous);
      store.delete(name);
      opts().onChange?.({ type: 'deleted', key: name, value: previous, previous });
      opts().onProgress?.(rv);
    },
    bookmark: (rv: string): void => {
      opts().onProgress?.(rv);
    },
  };
}

const signal = new AbortController().signal;
const who = (view: ReturnType<typeof drive>['view'], key: string): string[] =>
  view.claimants(key).map(c => c.node);

describe('startNodeView', () => {
  it('follows adds, address changes and deletes', () => {
    const { view, upsert, remove } = drive();
    upsert(wire('a', '10', '10.1.0.1'));
    upsert(wire('b', '11', '10.1.0.1'));
    assert.deepEqual(who(view, 'ip:10.1.0.1').sort(), ['a', 'b']);
    upsert(wire('a', '12', '10.1.0.2'));
    assert.deepEqual(who(view, 'ip:10.1.0.1'), ['b']);
    remove('b', '13');
    assert.deepEqual(who(view, 'ip:10.1.0.1'), []);
    assert.deepEqual(who(view, 'ip:10.1.0.2'), ['a']);
  });

  it('answers caught-up at once for a version it has already applied', async () => {
    const { view, upsert } = drive();
    upsert(wire('a', '100', '10.1.0.1'));
    assert.equal(await view.caughtUp('99', 1_000, signal), 'caught-up');
    assert.equal(await view.caughtUp('100', 1_000, signal), 'caught-up');
  });

  it('waits for a later version and answers when an event or a bookmark reaches it', async () => {
    const { view, upsert, bookmark } = drive();
    upsert(wire('a', '100', '10.1.0.1'));
    const waiting = view.caughtUp('105', 5_000, signal);
    let settled = false;
    void waiting.then(() => (settled = true));
    upsert(wire('b', '103', '10.1.0.2'));
    await new Promise(resolve => setImmediate(resolve));
    assert.equal(settled, false, 'version 103 is not 105');
    bookmark('1000');
    assert.equal(await waiting, 'caught-up');
  });

  it('times out when the watch never gets there', async () => {
    const { view, upsert } = drive();
    upsert(wire('a', '100', '10.1.0.1'));
    assert.equal(await view.caughtUp('101', 20, signal), 'timeout');
  });

  it('refuses to order versions that are not etcd revisions', async () => {
    const { view, upsert } = drive();
    upsert(wire('a', '100', '10.1.0.1'));
    assert.equal(await view.caughtUp('opaque', 1_000, signal), 'incomparable');
  });

  it('keeps no claims for a Node the policy cannot read', () => {
    assert.equal(
      projectNodeClaims({ metadata: { name: 'x', creationTimestamp: 'yesterday' } }),
      undefined,
    );
  });
});
