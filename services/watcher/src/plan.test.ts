import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PendingCsr } from './pending.ts';
import { abandonedOf, planAll, planRequester } from './plan.ts';

const MIN = 60_000;
const window = (n: number) => ({ window: n, abandonedAfterMs: 15 * MIN });

const csr = (
  name: string,
  requester: string,
  createdAtMs: number,
  resourceVersion = '1',
): PendingCsr => ({ uid: `uid-${name}`, name, resourceVersion, requester, createdAtMs });

const names = (plan: ReturnType<typeof planRequester>) => plan.map(p => [p.csr.name, p.priority]);

describe('planRequester', () => {
  it('ranks a requester’s CSRs oldest first, from priority 1', () => {
    const plan = planRequester(
      [csr('c', 'n1', 3), csr('a', 'n1', 1), csr('b', 'n1', 2)],
      window(3),
    );
    assert.deepEqual(names(plan), [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('queues the oldest within the window, and the newest whatever its rank', () => {
    const plan = planRequester(
      Array.from({ length: 10 }, (_, i) => csr(`c${i}`, 'n1', i)),
      window(2),
    );
    assert.deepEqual(names(plan), [
      ['c0', 1],
      ['c1', 2],
      ['c9', 10],
    ]);
  });

  it('always queues at least one CSR, whatever the window', () => {
    assert.deepEqual(names(planRequester([csr('a', 'n1', 1)], window(0))), [['a', 1]]);
  });

  it('orders CSRs created in the same second by resourceVersion, numerically', () => {
    const plan = planRequester([csr('a', 'n1', 5, '100'), csr('b', 'n1', 5, '99')], window(1));
    assert.deepEqual(names(plan), [
      ['b', 1],
      ['a', 2],
    ]);
  });

  it('orders CSRs with the same time and version by name, so replicas agree', () => {
    const plan = planRequester([csr('b', 'n1', 5), csr('a', 'n1', 5)], window(1));
    assert.deepEqual(names(plan), [
      ['a', 1],
      ['b', 2],
    ]);
  });
});

describe('abandoned CSRs', () => {
  const cases: readonly {
    readonly name: string;
    readonly pending: readonly PendingCsr[];
    readonly abandonedAfterMs?: number;
    readonly planned: readonly string[];
  }[] = [
    {
      name: 'a CSR filed 15 minutes before its requester’s newest is not queued',
      pending: [csr('old', 'n1', MIN), csr('new', 'n1', 16 * MIN)],
      planned: ['new'],
    },
    {
      name: 'one filed less than 15 minutes before is still queued',
      pending: [csr('old', 'n1', MIN), csr('new', 'n1', 15 * MIN)],
      planned: ['old', 'new'],
    },
    {
      name: 'a lone CSR is queued however old',
      pending: [csr('old', 'n1', MIN)],
      planned: ['old'],
    },
    {
      name: 'another requester’s newer CSR abandons nothing',
      pending: [csr('a', 'n1', MIN), csr('b', 'n2', 60 * MIN)],
      planned: ['a', 'b'],
    },
    {
      name: 'a CSR without a creation time is never taken for abandoned',
      pending: [csr('undated', 'n1', 0), csr('new', 'n1', 60 * MIN)],
      planned: ['undated', 'new'],
    },
    {
      name: 'with 0 nothing is abandoned',
      pending: [csr('old', 'n1', MIN), csr('new', 'n1', 60 * MIN)],
      abandonedAfterMs: 0,
      planned: ['old', 'new'],
    },
    {
      name: 'the newest is ranked first once the abandoned ones are set aside',
      pending: [csr('old', 'n1', MIN), csr('older', 'n1', 0.5 * MIN), csr('new', 'n1', 20 * MIN)],
      planned: ['new'],
    },
  ];
  it('a CSR filed 15 minutes before one already decided is not queued, even alone', () => {
    const lone = [csr('old', 'n1', MIN)];
    assert.deepEqual(planRequester(lone, window(3), 16 * MIN), []);
    assert.deepEqual(names(planRequester(lone, window(3), 15 * MIN)), [['old', 1]]);
  });

  for (const c of cases)
    it(c.name, () => {
      const options = { window: 3, abandonedAfterMs: c.abandonedAfterMs ?? 15 * MIN };
      const plan = planAll(c.pending, options);
      assert.deepEqual(
        plan.map(p => p.csr.name),
        c.planned,
      );
      assert.equal(plan[0]?.priority, 1);
      const requesters = [...new Set(c.pending.map(p => p.requester))];
      const abandoned = requesters.flatMap(r =>
        abandonedOf(
          c.pending.filter(p => p.requester === r),
          options.abandonedAfterMs,
        ),
      );
      assert.deepEqual(
        abandoned.map(p => p.name),
        c.pending.map(p => p.name).filter(n => !c.planned.includes(n)),
      );
    });
});

describe('planAll', () => {
  it("gives every requester's first CSR priority 1, however large another's backlog", () => {
    const flood = Array.from({ length: 100 }, (_, i) => csr(`flood-${i}`, 'system:node:noisy', i));
    const plan = planAll([...flood, csr('quiet', 'system:node:quiet', 50)], window(3));
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
