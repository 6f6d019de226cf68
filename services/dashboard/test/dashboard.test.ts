// The dashboard as its own process over a real Redis holding approval jobs: credentials required,
// every write endpoint refused in read-only mode (checked against Redis, not just the status), jobs
// link to their Jaeger trace, and the board in headless Chromium (screenshot in artifacts/).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { startRedis } from '@stampede/harness';
import type { RedisServer } from '@stampede/harness';
import { APPROVAL_QUEUE } from '@stampede/contracts';
import { createApprovalQueue, createRedisConnection } from '@stampede/queue';
import type { ApprovalQueue } from '@stampede/queue';
import type { Redis } from 'ioredis';

const ROOT = resolve(import.meta.dirname, '../../..');
const MAIN = join(ROOT, 'services/dashboard/src/main.ts');
const USER = 'operator';
const PASSWORD = 'dashboard-test-password';
const JAEGER = 'http://jaeger.example:16686';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const UIDS = ['5b0c3f4e-8d7a-4c1e-9f2b-3a6d8e1c0b7f', '0c9e6d1a-1111-4c1e-9f2b-3a6d8e1c0b7f'];
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Dashboard {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly port: Promise<number>;
  readonly exited: Promise<number | null>;
}

function startDashboard(env: Record<string, string>): Dashboard {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', DASHBOARD_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let found: (port: number) => void = () => undefined;
  const port = new Promise<number>(done => (found = done));
  const collect = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    const match = /"dashboardPort":(\d+)/.exec(output);
    if (match) found(Number(match[1]));
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>(done => child.on('exit', done));
  return { child, output: () => output, port, exited };
}

const WRITES: readonly (readonly [string, string])[] = [
  ['PUT', '/api/queues/pause'],
  ['PUT', '/api/queues/resume'],
  ['POST', '/api/queues/{q}/add'],
  ['PUT', '/api/queues/{q}/retry/failed'],
  ['PUT', '/api/queues/{q}/promote'],
  ['PUT', '/api/queues/{q}/clean/waiting'],
  ['PUT', '/api/queues/{q}/pause'],
  ['PUT', '/api/queues/{q}/resume'],
  ['PUT', '/api/queues/{q}/concurrency'],
  ['PUT', '/api/queues/{q}/rate-limit'],
  ['PUT', '/api/queues/{q}/rate-limit/release'],
  ['PUT', '/api/queues/{q}/empty'],
  ['PUT', '/api/queues/{q}/obliterate'],
  ['PUT', '/api/queues/{q}/{job}/retry'],
  ['PUT', '/api/queues/{q}/{job}/clean'],
  ['PUT', '/api/queues/{q}/{job}/promote'],
  ['PATCH', '/api/queues/{q}/{job}/update-data'],
  ['PATCH', '/api/queues/{q}/{job}/delay'],
  ['PATCH', '/api/queues/{q}/{job}/priority'],
  ['POST', '/api/metrics/history/purge'],
  ['DELETE', '/api/queues/{q}/{job}'],
];

describe('the dashboard', () => {
  let redis: RedisServer;
  let queue: ApprovalQueue;
  let connection: Redis;
  let dashboard: Dashboard;
  let base: string;
  const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

  before(async () => {
    redis = await startRedis();
    connection = createRedisConnection({ url: redis.url, role: 'producer', name: 'test' });
    queue = createApprovalQueue(connection);
    await queue.enqueueBulk(
      UIDS.map((uid, i) => ({
        job: {
          uid,
          name: `csr-${i}`,
          resourceVersion: String(100 + i),
          trace: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
        },
      })),
    );
    dashboard = startDashboard({
      REDIS_URL: redis.url,
      DASHBOARD_HOST: '0.0.0.0',
      DASHBOARD_USER: USER,
      DASHBOARD_PASSWORD: PASSWORD,
      JAEGER_UI_URL: JAEGER,
    });
    base = `http://127.0.0.1:${await dashboard.port}`;
  });

  after(async () => {
    dashboard.child.kill('SIGTERM');
    await dashboard.exited;
    await queue.close();
    connection.disconnect();
    await redis.stop();
  });

  it('refuses to start on a non-loopback address without credentials', async () => {
    const refused = startDashboard({ REDIS_URL: redis.url, DASHBOARD_HOST: '0.0.0.0' });
    assert.equal(await refused.exited, 2);
    assert.match(refused.output(), /not loopback: set DASHBOARD_USER and DASHBOARD_PASSWORD/);
  });

  it('asks for credentials on every page and API route', async () => {
    for (const path of ['/', '/api/queues', `/api/queues/${APPROVAL_QUEUE}/csr:${UIDS[0]}`]) {
      const response = await fetch(base + path);
      assert.equal(response.status, 401, path);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic/);
    }
    const wrong = `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}`;
    assert.equal(
      (await fetch(`${base}/api/queues`, { headers: { authorization: wrong } })).status,
      401,
    );
  });

  it('lists the approval queue and its jobs, each linked to its Jaeger trace', async () => {
    const response = await fetch(
      `${base}/api/queues?activeQueue=${APPROVAL_QUEUE}&status=prioritized`,
      {
        headers: { authorization: auth },
      },
    );
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      queues: {
        name: string;
        readOnlyMode: boolean;
        counts: Record<string, number>;
        jobs: { id: string; externalUrl?: { href: string } }[];
      }[];
    };
    const approvals = body.queues.find(q => q.name === APPROVAL_QUEUE);
    assert.ok(approvals);
    assert.equal(approvals.readOnlyMode, true);
    const queued = Object.values(approvals.counts).reduce((a, b) => a + b, 0);
    assert.equal(queued, UIDS.length);
    const text = JSON.stringify(approvals.jobs);
    assert.ok(text.includes(`${JAEGER}/trace/${TRACE_ID}`), text);
  });

  it('refuses every write endpoint in read-only mode and leaves Redis as it was', async () => {
    const before = await queue.counts();
    const job = encodeURIComponent(`csr:${UIDS[0]}`);
    for (const [method, template] of WRITES) {
      const path = template.replace('{q}', APPROVAL_QUEUE).replace('{job}', job);
      const response = await fetch(base + path, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', data: {}, delay: 1, priority: 1, concurrency: 9 }),
      });
      assert.equal(response.status, 405, `${method} ${path}`);
    }
    assert.deepEqual(await queue.counts(), before);
    assert.equal(await queue.queue.isPaused(), false);
  });

  it('shows the queue and its jobs in Chromium after login, and a write from the page is refused', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_FLAGS,
    });
    try {
      // Without credentials the browser gets the 401 challenge and no page.
      const anonymous = await browser.newContext();
      assert.equal((await anonymous.request.get(`${base}/`)).status(), 401);
      await assert.rejects(
        (await anonymous.newPage()).goto(`${base}/`),
        /ERR_INVALID_AUTH_CREDENTIALS/,
      );
      await anonymous.close();

      const context = await browser.newContext({
        httpCredentials: { username: USER, password: PASSWORD },
      });
      const page = await context.newPage();
      await page.goto(`${base}/queue/${APPROVAL_QUEUE}?status=prioritized`);
      await page.getByText(APPROVAL_QUEUE).first().waitFor({ timeout: 30_000 });
      await page.getByText(`csr:${UIDS[0]}`).first().waitFor({ timeout: 30_000 });
      const status = await page.evaluate(
        async url => (await fetch(url, { method: 'PUT' })).status,
        `${base}/api/queues/${APPROVAL_QUEUE}/pause`,
      );
      assert.equal(status, 405);
      const artifacts = join(ROOT, 'artifacts');
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
      await context.close();
    } finally {
      await browser.close();
    }
    assert.equal(await queue.queue.isPaused(), false);
  });
});
