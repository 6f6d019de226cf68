import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PendingCsr } from './pending.ts';
import { planAll, planRequester } from './plan.ts';

const csr = (
  name: string,
  requester: string,
  createdAtMs: number,
  resourceVersion = '1',
): PendingCsr => ({ uid: `uid-${name}`, name, resourceVersion, requester, createdAtMs });

const names = (plan: ReturnType<typeof planRequester>) => plan.map(p => [p.csr.name, p.priority]);

describe('planRequester', () => {
  it('ranks a requester’s CSRs oldest first, from priority 1', () => {
    const plan = planRequester([csr('c', 'n1', 3), csr('a', 'n1', 1), csr('b', 'n1', 2)], 3);
    assert.deepEqual(names(plan), [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('queues the oldest within the window, and the newest whatever its rank', () => {
    const plan = planRequester(
      Array.from({ length: 10 }, (_, i) => csr(`c${i}`, 'n1', i)),
      2,
    );
    assert.deepEqual(names(plan), [
      ['c0', 1],
      ['c1', 2],
      ['c9', 10],
    ]);
  });

  it('always queues at least one CSR, whatever the window', () => {
    assert.deepEqual(names(planRequester([csr('a', 'n1', 1)], 0)), [['a', 1]]);
  });

  it('orders CSRs created in the same second by resourceVersion, numerically', () => {
    const plan = planRequester([csr('a', 'n1', 5, '100'), csr('b', 'n1', 5, '99')], 1);
    assert.deepEqual(names(plan), [
      ['b', 1],
      ['a', 2],
    ]);
  });

  it('orders CSRs with the same time and version by name, so replicas agree', () => {
    const plan = planRequester([csr('b', 'n1', 5), csr('a', 'n1', 5)], 1);
    assert.deepEqual(names(plan), [
      ['a', 1],
      ['b', 2],
    ]);
  });
});

describe('planAll', () => {
  it("gives every requester's first CSR priority 1, however large another's backlog", () => {
    const flood = Array.from({ length: 100 }, (_, i) => csr(`flood-${i}`, 'system:node:noisy', i));
    const plan = planAll([...flood, csr('quiet', 'system:node:quiet', 50)], 3);
    assert.equal(plan.find(p => p.csr.name === 'quiet')?.priority, 1);
    assert.deepEqual(
      plan.filter(p => p.csr.requester === 'system:node:noisy').map(p => [p.csr.name, p.priority]),
      [
        ['flood-0', 1],
        ['flood-1', 2],
        ['flood-2', 3],
        ['flood-99', 100],
      ],
    );
  });
});
