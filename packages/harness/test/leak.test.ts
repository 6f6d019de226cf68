// Nothing the harness starts may outlive its test process, however that process ends. A child
// Node process starts a Redis, reports its pids and dirs, and then dies; the processes and the
// temp dirs must be gone within seconds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alive, startLeakyChild, waitUntilGone } from './fixtures/leak-helpers.ts';

describe('teardown of a Redis when the test process dies', () => {
  const ways: { how: string; end: (pid: number) => void }[] = [
    {
      how: 'SIGKILL (no hooks run: the reaper cleans up)',
      end: pid => process.kill(pid, 'SIGKILL'),
    },
    { how: 'SIGTERM (the signal hook cleans up)', end: pid => process.kill(pid, 'SIGTERM') },
    { how: 'SIGINT (the signal hook cleans up)', end: pid => process.kill(pid, 'SIGINT') },
  ];
  for (const { how, end } of ways) {
    it(`leaves no process or directory behind after ${how}`, async () => {
      const child = await startLeakyChild('redis');
      assert.ok(child.report.pids.every(alive), 'everything runs before the kill');
      end(child.pid);
      await waitUntilGone(child.report, 5000);
    });
  }

  for (const how of ['throw', 'exit'] as const) {
    it(`leaves no process or directory behind after the test process ${how === 'throw' ? 'throws' : 'calls process.exit'} without stop()`, async () => {
      const child = await startLeakyChild('redis', how);
      await child.exited;
      await waitUntilGone(child.report, 5000);
    });
  }
});
