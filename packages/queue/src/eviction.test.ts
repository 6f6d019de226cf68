import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EvictionPolicyError, checkEvictionPolicy, maxmemoryPolicyFromInfo } from './eviction.ts';

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
