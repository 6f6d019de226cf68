import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from './logger.ts';

function capture(mixin?: () => object): {
  logger: ReturnType<typeof createLogger>;
  text: () => string;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({
    service: 'test',
    instance: 'i',
    level: 'debug',
    destination,
    ...(mixin === undefined ? {} : { mixin }),
  });
  return { logger, text: () => chunks.join('') };
}

const PEM =
  '-----BEGIN CERTIFICATE REQUEST-----\nMIIBSecretBody\n-----END CERTIFICATE REQUEST-----';
const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VjcmV0In0.c2lnbmF0dXJlc2VjcmV0';

describe('createLogger', () => {
  const secrets: {
    name: string;
    log: (logger: ReturnType<typeof createLogger>) => void;
    secret: string;
  }[] = [
    {
      name: 'censors a PEM block in a field',
      log: l => {
        l.info({ pem: PEM }, 'x');
      },
      secret: 'MIIBSecretBody',
    },
    {
      name: 'censors a PEM block in the message',
      log: l => {
        l.info(`bad csr ${PEM}`);
      },
      secret: 'MIIBSecretBody',
    },
    {
      name: 'censors base64 PEM such as spec.request',
      log: l => {
        l.info({ csr: { spec: { req: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURQo=' } } }, 'x');
      },
      secret: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURQo',
    },
    {
      name: 'censors a bearer token in an error message',
      log: l => {
        l.warn({ err: new Error(`401 Authorization: Bearer ${JWT}`) }, 'x');
      },
      secret: 'c2lnbmF0dXJlc2VjcmV0',
    },
    {
      name: 'censors a bare service account token',
      log: l => {
        l.info({ detail: `token ${JWT}` }, 'x');
      },
      secret: 'c2lnbmF0dXJlc2VjcmV0',
    },
    {
      name: 'censors the password of a Redis URL',
      log: l => {
        l.info({ redis: 'redis://default:hunter2secret@redis:6379/0' }, 'x');
      },
      secret: 'hunter2secret',
    },
    {
      name: 'censors fields named like secrets whatever they hold',
      log: l => {
        l.info({ password: 'plainsecret', token: 'abc123secret' }, 'x');
      },
      secret: 'secret',
    },
  ];
  for (const { name, log, secret } of secrets) {
    it(name, () => {
      const { logger, text } = capture();
      log(logger);
      assert.ok(text().includes('[redacted]'), text());
      assert.ok(!text().includes(secret), text());
    });
  }

  it('keeps ordinary fields as they are', () => {
    const { logger, text } = capture();
    logger.info({ 'csr.name': 'csr-1', 'job.id': 'csr:5b0c' }, 'csr approved');
    const line = JSON.parse(text()) as Record<string, unknown>;
    assert.equal(line['csr.name'], 'csr-1');
    assert.equal(line['msg'], 'csr approved');
    assert.equal(line['service'], 'test');
  });

  it('adds the fields of the mixin (the active span ids) to every line', () => {
    const { logger, text } = capture(() => ({ trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) }));
    logger.info('inside a span');
    const line = JSON.parse(text()) as Record<string, unknown>;
    assert.equal(line['trace_id'], 'a'.repeat(32));
    assert.equal(line['span_id'], 'b'.repeat(16));
  });
});
