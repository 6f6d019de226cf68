import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunksOf, singleFlight } from './batching.ts';

describe('chunksOf', () => {
  const cases: [string, number, number, number[]][] = [
    ['splits 1,200 items into 500, 500 and 200', 1_200, 500, [500, 500, 200]],
    ['keeps an exact multiple in full chunks', 1_000, 500, [500, 500]],
    ['yields nothing for no items', 0, 500, []],
    ['yields one short chunk for fewer items than a chunk', 3, 500, [3]],
  ];
  for (const [name, count, size, sizes] of cases) {
    it(name, () => {
      const items = Array.from({ length: count }, (_, i) => i);
      const chunks = [...chunksOf(items, size)];
      assert.deepEqual(
        chunks.map(c => c.length),
        sizes,
      );
      assert.deepEqual(chunks.flat(), items);
    });
  }

  it('refuses a chunk size below one', () => {
    assert.throws(() => [...chunksOf([1], 0)], RangeError);
  });
});

describe('singleFlight', () => {
  function gate(): { readonly wait: Promise<void>; readonly open: () => void } {
    let open = (): void => undefined;
    const wait = new Promise<void>(resolve => {
      open = resolve;
    });
    return { wait, open };
  }

  it('never runs twice at once, and runs the latest queued call once after the current run', async () => {
    const started: string[] = [];
    let inFlight = 0;
    let most = 0;
    const gates = [gate(), gate()];
    const run = singleFlight(async (why: string) => {
      started.push(why);
      inFlight++;
      most = Math.max(most, inFlight);
      await gates[started.length - 1]?.wait;
      inFlight--;
    });
    const first = run('list');
    const second = run('resync');
    const third = run('reconnect');
    assert.deepEqual(started, ['list']);
    gates[0]?.open();
    await first;
    gates[1]?.open();
    await Promise.all([second, third]);
    assert.deepEqual(started, ['list', 'reconnect']);
    assert.equal(most, 1);
  });

  it('settles a queued caller only after the run that covers it ended', async () => {
    const order: string[] = [];
    const first = gate();
    let runs = 0;
    const run = singleFlight(async () => {
      runs++;
      if (runs === 1) await first.wait;
      order.push(`run ${runs} ended`);
    });
    void run(undefined);
    const queued = run(undefined).then(() => order.push('queued caller settled'));
    first.open();
    await queued;
    assert.deepEqual(order, ['run 1 ended', 'run 2 ended', 'queued caller settled']);
  });

  it('starts at once again when nothing is running', async () => {
    let runs = 0;
    const run = singleFlight(async () => {
      runs++;
      await Promise.resolve();
    });
    await run(undefined);
    await run(undefined);
    assert.equal(runs, 2);
  });
});
