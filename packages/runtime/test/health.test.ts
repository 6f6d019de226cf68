import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startHealthServer } from '@stampede/runtime';

describe('startHealthServer', () => {
  it('answers 200 when every check passes and 503 naming the failing one otherwise', async () => {
    let synced = false;
    const server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      live: { loop: () => ({ ok: true }) },
      ready: { synced: () => ({ ok: synced, detail: synced ? 'synced' : 'waiting for LIST' }) },
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const notReady = await fetch(`${base}/readyz`);
      assert.equal(notReady.status, 503);
      assert.match(await notReady.text(), /\[-\] synced: waiting for LIST/);
      synced = true;
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      assert.equal((await fetch(`${base}/other`)).status, 404);
    } finally {
      await server.close();
    }
  });
});
