import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CertificateAuthority, generateKeyPair } from '@stampede/harness';
import { INVENTORY_API_VERSION } from '@stampede/policy';
import { createInventory } from './inventory.ts';
import type { InventoryQuestion } from './inventory.ts';

const QUESTION: InventoryQuestion = {
  csrName: 'csr-abc',
  csrUid: 'uid-1',
  node: 'node-a',
  username: 'system:node:node-a',
  sanKeys: ['dns:node-a', 'ip:10.0.0.1', 'ip:fd00::a'],
};
const answer = (sans: unknown[], uid = 'uid-1') =>
  JSON.stringify({
    apiVersion: INVENTORY_API_VERSION,
    kind: 'InventoryReview',
    response: { uid, sans },
  });

describe('createInventory: an inventory over HTTPS on loopback', () => {
  const ca = CertificateAuthority.create('inventory-test-ca');
  const key = generateKeyPair();
  const cert = ca.issue(
    { subject: { commonName: 'inventory' }, ips: ['127.0.0.1'], extKeyUsages: ['serverAuth'] },
    key.spki,
  );
  const dir = mkdtempSync(join(tmpdir(), 'stampede-inventory-test-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'secret-token\n');
  const hang = (): void => undefined;
  let handler: (req: IncomingMessage, body: string, res: ServerResponse) => void = hang;
  let server: Server;
  let url: URL;

  before(async () => {
    server = createServer({ cert: cert.certPem, key: key.privateKeyPem }, (req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        handler(req, body, res);
      });
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`https://127.0.0.1:${String((server.address() as AddressInfo).port)}/review`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const inventory = (caPem = ca.certPem, timeoutMs = 500) =>
    createInventory({ url, caPem, tokenFile, timeoutMs });
  const review = (caPem?: string) =>
    inventory(caPem).review(QUESTION, new AbortController().signal);

  it('posts the review with the bearer token and reads the answer', { timeout: 5000 }, async () => {
    let seen: { auth?: string | undefined; body?: unknown } = {};
    handler = (req, body, res) => {
      seen = { auth: req.headers.authorization, body: JSON.parse(body) };
      res.end(answer([{ type: 'IP', value: '10.0.0.1', vouched: true }]));
    };
    const fact = await review();
    assert.deepEqual(fact.state === 'known' ? Object.fromEntries(fact.value) : fact, {
      'ip:10.0.0.1': { vouched: true },
    });
    assert.equal(seen.auth, 'Bearer secret-token');
    assert.deepEqual(seen.body, {
      apiVersion: INVENTORY_API_VERSION,
      kind: 'InventoryReview',
      request: {
        uid: 'uid-1',
        csrName: 'csr-abc',
        node: 'node-a',
        username: 'system:node:node-a',
        sans: [
          { type: 'DNS', value: 'node-a' },
          { type: 'IP', value: '10.0.0.1' },
          { type: 'IP', value: 'fd00::a' },
        ],
      },
    });
  });

  const failures: [string, (res: ServerResponse) => void, RegExp][] = [
    [
      'an error status is unavailable',
      res => {
        res.statusCode = 503;
        res.end('busy');
      },
      /HTTP 503/,
    ],
    ['no answer within the timeout is unavailable', hang, /timed out after 500 ms/],
    [
      'an answer larger than 64 KiB is unavailable',
      res => {
        res.end('x'.repeat(70 * 1024));
      },
      /larger than/,
    ],
  ];
  for (const [name, respond, reason] of failures) {
    it(name, { timeout: 5000 }, async () => {
      handler = (_req, _body, res) => {
        respond(res);
      };
      const fact = await review();
      assert.ok(fact.state === 'unavailable', JSON.stringify(fact));
      assert.match(fact.reason, reason);
    });
  }

  it('a server its CA did not sign is unavailable, not trusted', { timeout: 5000 }, async () => {
    handler = (_req, _body, res) =>
      res.end(answer([{ type: 'IP', value: '10.0.0.1', vouched: true }]));
    const fact = await review(CertificateAuthority.create('another-ca').certPem);
    assert.equal(fact.state, 'unavailable');
  });

  it(
    'a token file emptied by a rotation is unavailable, and nothing is sent without it',
    { timeout: 5000 },
    async () => {
      const emptied = join(dir, 'emptied-token');
      writeFileSync(emptied, '\n');
      let posted = 0;
      handler = (_req, _body, res) => {
        posted += 1;
        res.end(answer([{ type: 'IP', value: '10.0.0.1', vouched: true }]));
      };
      const fact = await createInventory({
        url,
        caPem: ca.certPem,
        tokenFile: emptied,
        timeoutMs: 500,
      }).review(QUESTION, new AbortController().signal);
      assert.ok(fact.state === 'unavailable', JSON.stringify(fact));
      assert.match(fact.reason, /empty/);
      assert.equal(posted, 0);
    },
  );

  it('rethrows when the job itself is cancelled', { timeout: 5000 }, async () => {
    handler = hang;
    const abort = new AbortController();
    const pending = inventory(ca.certPem, 5_000).review(QUESTION, abort.signal);
    abort.abort(new Error('job cancelled'));
    await assert.rejects(pending);
  });
});
