import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSentinels, sentinelsText } from './redis-sentinels.ts';
import type { SentinelConfig } from './redis-sentinels.ts';

describe('parseSentinels', () => {
  const cases: { name: string; text: string; want: SentinelConfig | 'error' }[] = [
    {
      name: 'reads a primary name and one sentinel',
      text: 'stampede@10.0.0.1:26379',
      want: { primaryName: 'stampede', sentinels: [{ host: '10.0.0.1', port: 26379 }] },
    },
    {
      name: 'reads several sentinels, host names and bracketed IPv6',
      text: 'mymaster@redis-sentinel-0.redis:26379, [fd00::1]:26380',
      want: {
        primaryName: 'mymaster',
        sentinels: [
          { host: 'redis-sentinel-0.redis', port: 26379 },
          { host: 'fd00::1', port: 26380 },
        ],
      },
    },
    { name: 'refuses sentinels without a primary name', text: '10.0.0.1:26379', want: 'error' },
    { name: 'refuses an empty primary name', text: '@10.0.0.1:26379', want: 'error' },
    { name: 'refuses a sentinel without a port', text: 'm@10.0.0.1', want: 'error' },
    { name: 'refuses port 0', text: 'm@10.0.0.1:0', want: 'error' },
    { name: 'refuses a port above 65535', text: 'm@10.0.0.1:65536', want: 'error' },
    { name: 'refuses an empty entry', text: 'm@10.0.0.1:26379,', want: 'error' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const parsed = parseSentinels(c.text);
      if (c.want === 'error') assert.ok('error' in parsed, JSON.stringify(parsed));
      else assert.deepEqual(parsed, c.want);
    });
  }
});

describe('sentinelsText', () => {
  it('writes the sentinels back in REDIS_SENTINELS form, without the password', () => {
    const text = sentinelsText({
      primaryName: 'm',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'fd00::1', port: 26380 },
      ],
      password: 'secret',
    });
    assert.equal(text, 'm@10.0.0.1:26379,[fd00::1]:26380');
  });

  it('is undefined without sentinels', () => {
    assert.equal(sentinelsText(undefined), undefined);
  });
});
