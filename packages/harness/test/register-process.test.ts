// registerProcess(): processes a test or the demo spawned itself (the services) die with their
// parent, even when the parent is SIGKILLed and no hook runs: the detached reaper kills them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { alive, waitUntilGone } from './fixtures/leak-helpers.ts';
import type { LeakReport } from './fixtures/leak-helpers.ts';

async function startRegisteringChild(mode: 'pid' | 'group'): Promise<{
  pid: number;
  report: LeakReport;
}> {
  const script = fileURLToPath(new URL('./fixtures/registering-child.ts', import.meta.url));
  const child = spawn(process.execPath, [script, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  for await (const line of createInterface({ input: child.stdout })) {
    return { pid: child.pid ?? 0, report: JSON.parse(line) as LeakReport };
  }
  throw new Error('the registering child exited without reporting');
}

describe('registerProcess with the harness reaper', () => {
  it('kills a registered grandchild after its parent is SIGKILLed', async () => {
    const child = await startRegisteringChild('pid');
    assert.ok(child.report.pids.every(alive), 'the grandchild runs before the kill');
    assert.ok(alive(child.report.reaper), 'the reaper was started by the registration');
    process.kill(child.pid, 'SIGKILL');
    await waitUntilGone(child.report, 5000);
  });

  it('kills every process of a registered group after its parent is SIGKILLed', async () => {
    const child = await startRegisteringChild('group');
    assert.equal(child.report.pids.length, 2);
    assert.ok(child.report.pids.every(alive), 'the group runs before the kill');
    process.kill(child.pid, 'SIGKILL');
    await waitUntilGone(child.report, 5000);
  });
});
