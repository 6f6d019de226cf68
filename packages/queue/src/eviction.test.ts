import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EvictionPolicyError,
  checkEvictionPolicy,
  maxmemoryPolicyFromInfo,
  watchEvictionPolicy,
} from './eviction.ts';

const info = (policy: string): string =>
  `# Memory\r\nused_memory:1000\r\nmaxmemory:0\r\nmaxmemory_policy:${policy}\r\nmem_fragmentation_ratio:1.1\r\n`;

describe('checkEvictionPolicy', () => {
  it('reads maxmemory_policy from INFO memory', () => {
    assert.equal(maxmemoryPolicyFromInfo(info('allkeys-lru')), 'allkeys-lru');
    assert.equal(maxmemoryPolicyFromInfo('# Memory\r\nused_memory:1\r\n'), undefined);
  });

  const cases: { name: string; policy: string; allow: boolean; ok: boolean }[] = [
    { name: 'starts on noeviction', policy: 'noeviction', allow: false, ok: true },
    { name: 'refuses allkeys-lru', policy: 'allkeys-lru', allow: false, ok: false },
    {
      name: 'refuses volatile-ttl (BullMQ keys can carry a TTL)',
      policy: 'volatile-ttl',
      allow: false,
      ok: false,
    },
    { name: 'refuses a Redis that does not say', policy: '', allow: false, ok: false },
    {
      name: 'starts on allkeys-lru when the operator allows eviction',
      policy: 'allkeys-lru',
      allow: true,
      ok: true,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const redis = {
        info: () => Promise.resolve(c.policy === '' ? '# Memory\r\n' : info(c.policy)),
      };
      const checked = checkEvictionPolicy(redis, { allowEviction: c.allow });
      if (c.ok) assert.equal(await checked, c.policy);
      else
        await assert.rejects(
          checked,
          (error: unknown) =>
            error instanceof EvictionPolicyError && error.message.includes('REDIS_ALLOW_EVICTION'),
        );
    });
  }
});

describe('watchEvictionPolicy', () => {
  /** A Redis whose INFO answers the policies in turn (an Error: a failed read). */
  const redisAnswering = (answers: (string | Error)[]) => ({
    reads: 0,
    info() {
      this.reads += 1;
      // The last answer stays: the timer may read more often than there are answers.
      const next = (answers.length > 1 ? answers.shift() : answers[0]) ?? 'noeviction';
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(info(next));
    },
  });
  const tick = () => new Promise(resolve => setTimeout(resolve, 5));

  const cases: [string, (string | Error)[], boolean, string[], boolean][] = [
    [
      'reports a policy switched to allkeys-lru, once',
      ['allkeys-lru', 'allkeys-lru'],
      false,
      ['allkeys-lru'],
      false,
    ],
    [
      'is ready again once noeviction is back',
      ['allkeys-lru', 'noeviction'],
      false,
      ['allkeys-lru'],
      true,
    ],
    [
      'keeps the last answer when a read fails',
      [new Error('down'), new Error('down')],
      false,
      [],
      true,
    ],
    ['reports nothing when the operator allows eviction', ['allkeys-lru'], true, [], true],
    [
      'reports each new unsafe policy',
      ['allkeys-lru', 'volatile-lru'],
      false,
      ['allkeys-lru', 'volatile-lru'],
      false,
    ],
  ];
  for (const [name, answers, allowEviction, reported, okAtEnd] of cases) {
    it(name, async () => {
      const unsafe: string[] = [];
      const redis = redisAnswering([...answers]);
      const watch = watchEvictionPolicy(redis, {
        allowEviction,
        initial: 'noeviction',
        intervalMs: 10,
        onUnsafe: policy => unsafe.push(policy),
      });
      try {
        // Every answer read, and the last one handled.
        while (redis.reads <= answers.length) await tick();
      } finally {
        watch.stop();
      }
      assert.deepEqual(unsafe, reported);
      assert.equal(watch.current().ok, okAtEnd);
    });
  }
});
