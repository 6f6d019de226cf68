import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisScriptingError, checkScripting } from './scripting.ts';

const answering = (outcome: () => Promise<unknown>) => ({ eval: outcome }) as never;

describe('checkScripting', () => {
  const cases: { name: string; outcome: () => Promise<unknown>; refused?: RegExp | true }[] = [
    { name: 'starts when the script runs', outcome: () => Promise.resolve(1) },
    {
      name: 'refuses a user without scripting, naming the grant',
      outcome: () =>
        Promise.reject(
          new Error("NOPERM User stampede has no permissions to run the 'eval' command"),
        ),
      refused: /may not run scripts.*\+@scripting/,
    },
    {
      name: 'passes any other error on as it is',
      outcome: () => Promise.reject(new Error('Connection is closed.')),
      refused: true,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const checked = checkScripting(answering(c.outcome));
      if (c.refused === undefined) {
        await checked;
        return;
      }
      if (c.refused === true) {
        await assert.rejects(checked, /^Error: Connection is closed\.$/);
        return;
      }
      await assert.rejects(checked, (error: unknown) => {
        assert.ok(error instanceof RedisScriptingError);
        assert.match(error.message, c.refused as RegExp);
        return true;
      });
    });
  }
});
