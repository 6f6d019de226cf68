import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startHealthServer } from './health.ts';

const status = async (port: number, path: string) =>
  (await fetch(`http://127.0.0.1:${String(port)}${path}`)).status;

describe('startHealthServer', () => {
  it('serves the checks it was started with, then the ones handed over by use()', async () => {
    const health = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      live: { starting: () => ({ ok: true }) },
      ready: { redis: () => ({ ok: false, detail: 'connecting' }) },
    });
    try {
      assert.deepEqual(
        [await status(health.port, '/healthz'), await status(health.port, '/readyz')],
        [200, 503],
      );
      health.use({ live: { worker: () => ({ ok: false }) }, ready: { all: () => ({ ok: true }) } });
      assert.deepEqual(
        [await status(health.port, '/livez'), await status(health.port, '/readyz')],
        [503, 200],
      );
    } finally {
      await health.close();
    }
  });

  it('explains a failing check in the body and answers 404 elsewhere', async () => {
    const health = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      live: {},
      ready: { redis: () => ({ ok: false, detail: 'connecting' }), view: () => ({ ok: true }) },
    });
    try {
      const body = await (await fetch(`http://127.0.0.1:${String(health.port)}/readyz`)).text();
      assert.equal(body, '[-] redis: connecting\n[+] view\nfailed\n');
      assert.equal(await status(health.port, '/other'), 404);
    } finally {
      await health.close();
    }
  });
});
