import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisRequirementError, checkRedisRequirements } from './requirements.ts';

const STANDALONE = '# Cluster\r\ncluster_enabled:0\r\n';
const CLUSTER = '# Cluster\r\ncluster_enabled:1\r\n';

describe('checkRedisRequirements', () => {
  const cases: {
    name: string;
    info: string;
    script: () => Promise<unknown>;
    refused?: RegExp;
    passedOn?: RegExp;
  }[] = [
    {
      name: 'starts on a standalone Redis that runs scripts',
      info: STANDALONE,
      script: () => Promise.resolve(1),
    },
    {
      name: 'refuses Redis Cluster, naming the way out',
      info: CLUSTER,
      script: () => Promise.resolve(1),
      refused: /Redis Cluster is not supported.*Sentinel/,
    },
    {
      name: 'refuses a user without scripting, naming the grant',
      info: STANDALONE,
      script: () =>
        Promise.reject(
          new Error("NOPERM User stampede has no permissions to run the 'eval' command"),
        ),
      refused: /may not run scripts.*\+@scripting/,
    },
    {
      name: 'passes any other error on as it is',
      info: STANDALONE,
      script: () => Promise.reject(new Error('Connection is closed.')),
      passedOn: /^Error: Connection is closed\.$/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const redis = { info: () => Promise.resolve(c.info), eval: c.script } as never;
      const checked = checkRedisRequirements(redis);
      if (c.passedOn !== undefined) {
        await assert.rejects(checked, c.passedOn);
        return;
      }
      if (c.refused === undefined) {
        await checked;
        return;
      }
      const refused = c.refused;
      await assert.rejects(checked, (error: unknown) => {
        assert.ok(error instanceof RedisRequirementError);
        assert.match(error.message, refused);
        return true;
      });
    });
  }
});
