// `stampede demo` as a user runs it: a real process that starts a control plane, Redis, a watcher
// and two workers, drives a small fleet, prints its summary and tears everything down.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';

const MAIN = resolve(import.meta.dirname, '../src/main.ts');

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function stampede(args: readonly string[]): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, STAMPEDE_HARNESS_QUIET: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', code => {
      done({ code, stdout, stderr });
    });
  });
}

function field(stdout: string, label: string): string {
  const match = new RegExp(`^ *${label}: +(.+)$`, 'm').exec(stdout);
  assert.ok(match, `no "${label}" line in:\n${stdout}`);
  return match[1] ?? '';
}

describe('stampede demo on the real pipeline', () => {
  it('issues and verifies a certificate for every kubelet of a 20-node fleet and denies the invalid requests', async () => {
    const result = await stampede(['demo', '--nodes', '20']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr.slice(-4000)}`);
    const { stdout } = result;
    assert.match(stdout, /stampede demo: 20 kubelets \+ 3 invalid requests/);
    assert.equal(field(stdout, 'approved'), '20');
    assert.equal(field(stdout, 'denied'), '3');
    assert.equal(field(stdout, 'SanNotOwned'), '2');
    assert.equal(field(stdout, 'DisallowedUsages'), '1');
    assert.equal(field(stdout, 'issued and verified'), '20/20');
    const latency = /p50 (\d+) ms, p99 (\d+) ms/.exec(field(stdout, 'created to issued'));
    assert.ok(latency, 'p50 and p99 are numbers');
    assert.ok(Number(latency[1]) > 0 && Number(latency[1]) <= Number(latency[2]));
    assert.match(stdout, /^result: OK$/m);
    // Not a terminal: the progress bar prints whole lines, and the last one is complete.
    assert.match(result.stderr, /issued \[#+\] 20\/20/);
    assert.doesNotMatch(result.stderr, /\r/);
  });

  it('prints its help with --help and exits 0 without starting anything', async () => {
    const result = await stampede(['demo', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /usage: stampede demo \[--nodes N\] \[--keep\]/);
    assert.match(result.stdout, /--offline/);
  });

  it('refuses a fleet size that is not a positive integer with status 2', async () => {
    const result = await stampede(['demo', '--nodes', 'lots']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--nodes must be an integer/);
  });

  it('keeps the offline sample table as explain-samples', async () => {
    const result = await stampede(['explain-samples']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /node-a asks for client auth too\s+deny/);
  });
});
