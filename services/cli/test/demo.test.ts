// `stampede demo` as a user runs it: a real process that starts a control plane, Redis, a watcher,
// two workers, the dashboard and (built by ./run test) Jaeger, drives a small fleet, prints its
// summary and where to look, and tears everything down.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseSubjectAltName, servedCertificate } from '@stampede/harness';

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

/** Runs the demo with --keep until it says everything is up, then hands its output over. */
function keepRunning(args: readonly string[]): Promise<{
  readonly stdout: string;
  readonly stop: () => Promise<Result>;
}> {
  return new Promise((ready, fail) => {
    const child = spawn(process.execPath, [MAIN, 'demo', '--keep', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, STAMPEDE_HARNESS_QUIET: '1' },
    });
    let stdout = '';
    let stderr = '';
    const closed = new Promise<Result>(done =>
      child.on('close', code => {
        done({ code, stdout, stderr });
      }),
    );
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('Ctrl-C stops'))
        ready({
          stdout,
          stop: () => {
            child.kill('SIGINT');
            return closed;
          },
        });
    });
    child.on('error', fail);
    void closed.then(result => {
      fail(
        new Error(
          `the demo exited (${String(result.code)}) before it was up:\n${stdout}\n${stderr.slice(-4000)}`,
        ),
      );
    });
  });
}

/** One real kubelet's block in the summary. */
function realKubelet(stdout: string, name: string) {
  const block = new RegExp(
    `^ {4}${name} +(\\S+):(\\d+) +(\\w+)\\n +subject: +(.+)\\n +SANs: +(.+)\\n +issuer: +(.+?) {3}not after`,
    'm',
  ).exec(stdout);
  assert.ok(block, `no block for ${name} in:\n${stdout}`);
  const [, ip = '', port = '', verdict, subject, sans, issuer] = block;
  return { ip, port: Number(port), verdict, subject, sans, issuer };
}

function field(stdout: string, label: string): string {
  const match = new RegExp(`^ *${label}: +(.+)$`, 'm').exec(stdout);
  assert.ok(match, `no "${label}" line in:\n${stdout}`);
  return match[1] ?? '';
}

describe('stampede demo on the real pipeline', () => {
  it('issues and verifies a certificate for every kubelet of a 20-node fleet and 2 real kubelets, and denies the invalid requests', async () => {
    const result = await stampede(['demo', '--nodes', '20']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr.slice(-4000)}`);
    const { stdout } = result;
    assert.match(stdout, /stampede demo: 20 kubelets \+ 3 invalid requests \+ 2 real kubelets/);
    assert.equal(field(stdout, 'approved'), '22');
    for (const name of ['real-kubelet-1', 'real-kubelet-2']) {
      const shown = realKubelet(stdout, name);
      assert.equal(shown.verdict, 'verified');
      assert.equal(shown.subject, `O=system:nodes, CN=system:node:${name}`);
      assert.equal(shown.sans, `DNS:${name}, IP:${shown.ip}`);
      assert.equal(shown.issuer, 'CN=stampede-harness-kubelet-serving-ca');
    }
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

  it('prints the Bull Board URL, the Jaeger page of an approved and a denied CSR trace, and the real kubelet’s certificate, and each is served while it keeps running', async () => {
    const demo = await keepRunning(['--nodes', '5', '--real-kubelets', '1']);
    let stopped: Result | undefined;
    try {
      const { stdout } = demo;
      assert.match(stdout, /^result: OK$/m);
      // What the demo says the kubelet serves is what its port serves, asked here independently.
      const shown = realKubelet(stdout, 'real-kubelet-1');
      const served = await servedCertificate(shown.ip, shown.port);
      assert.ok(served, `a certificate on ${shown.ip}:${String(shown.port)}`);
      assert.equal(served.subject.split('\n').join(', '), shown.subject);
      assert.equal(served.issuer.split('\n').join(', '), shown.issuer);
      assert.deepEqual(
        parseSubjectAltName(served.subjectAltName ?? ''),
        parseSubjectAltName((shown.sans ?? '').replaceAll('IP:', 'IP Address:')),
      );
      assert.match(
        stdout,
        new RegExp(`openssl s_client -connect ${shown.ip}:${String(shown.port)}`),
      );
      const board = /^ {2}Bull Board: +(http:\/\/127\.0\.0\.1:\d+\/)/m.exec(stdout)?.[1];
      assert.ok(board, `a Bull Board URL in:\n${stdout}`);
      const queues = await fetch(`${board}api/queues`);
      assert.equal(queues.status, 200);
      assert.match(await queues.text(), /csr-approvals/);

      // STAMPEDE_JAEGER_BIN comes from ./run test, so Jaeger is there and the demo must use it.
      const traces = [
        ...stdout.matchAll(/^ {4}(approved|denied) CSR: +(http:\S+)\/trace\/([0-9a-f]{32}) /gm),
      ];
      assert.deepEqual(
        traces.map(m => m[1]),
        ['approved', 'denied'],
        `a trace page per outcome in:\n${stdout}`,
      );
      for (const [, outcome, ui, traceId] of traces) {
        const response = await fetch(`${ui}/api/traces/${traceId}`);
        assert.equal(response.status, 200);
        const body = (await response.json()) as {
          data: {
            spans: { tags: { key: string; value: unknown }[] }[];
            processes: Record<string, { serviceName: string }>;
          }[];
        };
        const trace = body.data[0];
        assert.ok(trace, `Jaeger has trace ${traceId}`);
        const services = new Set(Object.values(trace.processes).map(p => p.serviceName));
        assert.deepEqual([...services].sort(), ['stampede-watcher', 'stampede-worker']);
        const outcomes = trace.spans.flatMap(span =>
          span.tags.filter(tag => tag.key === 'stampede.outcome').map(tag => tag.value),
        );
        assert.deepEqual(outcomes, [outcome]);
      }
    } finally {
      stopped = await demo.stop();
    }
    assert.equal(stopped.code, 0, stopped.stderr.slice(-4000));
  });

  it('prints its help with --help and exits 0 without starting anything', async () => {
    const result = await stampede(['demo', '--help']);
    assert.equal(result.code, 0);
    assert.match(
      result.stdout,
      /usage: stampede demo \[--nodes N\] \[--real-kubelets N\] \[--keep\]/,
    );
    assert.match(result.stdout, /--offline/);
  });

  it('refuses a fleet size that is not a positive integer with status 2', async () => {
    const result = await stampede(['demo', '--nodes', 'lots']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--nodes must be an integer/);
  });

  it('refuses a real-kubelet count out of range with status 2', async () => {
    const result = await stampede(['demo', '--real-kubelets', '21']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--real-kubelets must be an integer from 0 to 20/);
  });

  it('keeps the offline sample table as explain-samples', async () => {
    const result = await stampede(['explain-samples']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /node-a asks for client auth too\s+deny/);
  });
});
