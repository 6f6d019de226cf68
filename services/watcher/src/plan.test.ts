import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PendingCsr } from './pending.ts';
import { planAll, planRequester } from './plan.ts';

const csr = (name: string, requester: string, createdAtMs: number): PendingCsr => ({
  uid: `uid-${name}`,
  name,
  resourceVersion: '1',
  requester,
  createdAtMs,
});

describe('planRequester', () => {
  it('queues the newest CSRs first, ranked from priority 1', () => {
    const plan = planRequester([csr('old', 'n1', 1), csr('new', 'n1', 3), csr('mid', 'n1', 2)], 2);
    assert.deepEqual(
      plan.map(p => [p.csr.name, p.priority]),
      [
        ['new', 1],
        ['mid', 2],
      ],
    );
  });

  it('always queues at least one CSR, whatever the window', () => {
    assert.equal(planRequester([csr('a', 'n1', 1)], 0).length, 1);
  });

  it('orders CSRs created in the same millisecond by name, so replicas agree', () => {
    const plan = planRequester([csr('b', 'n1', 5), csr('a', 'n1', 5)], 1);
    assert.equal(plan[0]?.csr.name, 'a');
  });
});

describe('planAll', () => {
  it("gives every requester's newest CSR priority 1, however large another's backlog", () => {
    const flood = Array.from({ length: 100 }, (_, i) => csr(`flood-${i}`, 'system:node:noisy', i));
    const plan = planAll([...flood, csr('quiet', 'system:node:quiet', 0)], 3);
    assert.equal(plan.length, 4, 'the flood is cut to its window');
    assert.equal(plan.find(p => p.csr.name === 'quiet')?.priority, 1);
    assert.deepEqual(
      plan.filter(p => p.csr.requester === 'system:node:noisy').map(p => p.csr.name),
      ['flood-99', 'flood-98', 'flood-97'],
    );
  });
});
