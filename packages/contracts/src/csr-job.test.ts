import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deduplicationId, parseCsrJob } from './csr-job.ts';
import type { CsrJobResult } from './csr-job.ts';

const uid = '5b0c3f4e-8d7a-4c1e-9f2b-3a6d8e1c0b7f';
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const errorOf = (result: CsrJobResult): string => (result.ok ? 'accepted' : result.error);
const valid = { uid, name: 'csr-8x2kq' };

describe('parseCsrJob', () => {
  const accepted: { name: string; data: unknown }[] = [
    { name: 'accepts a job without trace context', data: valid },
    {
      name: 'accepts a job an older watcher wrote with a resourceVersion',
      data: { ...valid, resourceVersion: '123456' },
    },
    { name: 'accepts a job with a traceparent', data: { ...valid, trace: { traceparent } } },
    {
      name: 'accepts a job with a traceparent and a tracestate',
      data: { ...valid, trace: { traceparent, tracestate: 'vendor=opaque' } },
    },
  ];
  for (const { name, data } of accepted) {
    it(name, () => {
      assert.deepEqual(parseCsrJob(data), { ok: true, job: data });
    });
  }

  const rejected: { name: string; data: unknown; error: RegExp }[] = [
    { name: 'rejects a payload that is not an object', data: 'csr-1', error: /\(payload\)/ },
    { name: 'rejects null', data: null, error: /\(payload\)/ },
    { name: 'rejects a missing uid', data: { ...valid, uid: undefined }, error: /^uid: / },
    { name: 'rejects a uid with a colon', data: { ...valid, uid: 'a:b' }, error: /^uid: / },
    { name: 'rejects an empty name', data: { ...valid, name: '' }, error: /^name: / },
    { name: 'rejects a name with a slash', data: { ...valid, name: 'a/b' }, error: /^name: / },
    { name: 'rejects the name ..', data: { ...valid, name: '..' }, error: /^name: / },
    {
      name: 'rejects a name longer than 253 characters',
      data: { ...valid, name: 'a'.repeat(254) },
      error: /^name: /,
    },
    {
      name: 'rejects a resourceVersion with a space',
      data: { ...valid, resourceVersion: '1 2' },
      error: /^resourceVersion: /,
    },
    {
      name: 'rejects an unknown field, so CSR content can never ride along',
      data: { ...valid, request: 'LS0tLS1CRUdJTi…' },
      error: /unrecognized key/i,
    },
    {
      name: 'rejects an all-zero trace id',
      data: { ...valid, trace: { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` } },
      error: /^trace\.traceparent: /,
    },
    {
      name: 'rejects an unknown traceparent version',
      data: { ...valid, trace: { traceparent: traceparent.replace(/^00/, 'ff') } },
      error: /^trace\.traceparent: /,
    },
    {
      name: 'rejects a tracestate over 512 characters',
      data: { ...valid, trace: { traceparent, tracestate: 'a'.repeat(513) } },
      error: /^trace\.tracestate: /,
    },
  ];
  for (const { name, data, error } of rejected) {
    it(name, () => {
      assert.match(errorOf(parseCsrJob(data)), error);
    });
  }

  it('names every bad field at once', () => {
    const error = errorOf(parseCsrJob({ uid: '', name: '', resourceVersion: '' }));
    for (const field of ['uid', 'name', 'resourceVersion']) assert.match(error, new RegExp(field));
  });

  it('keeps a job with full trace context under 256 bytes of JSON', () => {
    const job = {
      uid,
      name: 'csr-8x2kq',
      trace: { traceparent, tracestate: 'rojo=00f067aa0ba902b7' },
    };
    assert.equal(parseCsrJob(job).ok, true);
    const bytes = new TextEncoder().encode(JSON.stringify(job)).length;
    assert.ok(bytes < 256, `${bytes} bytes`);
  });
});

describe('deduplicationId', () => {
  it('derives the id from the uid alone', () => {
    assert.equal(deduplicationId(uid), `csr:${uid}`);
  });

  it('gives a CSR re-created under the same name a different id', () => {
    assert.notEqual(deduplicationId(uid), deduplicationId('0c9e6d1a-1111-4c1e-9f2b-3a6d8e1c0b7f'));
  });
});
