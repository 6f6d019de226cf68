import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withCreationTimestamp } from './backdate.ts';

// Length-delimited field: tag, length, bytes (all lengths here are < 128).
const ld = (field: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([(field << 3) | 2, body.length]), body]);
};
const text = (s: string): Buffer => Buffer.from(s);
const seconds = (n: number): Buffer => Buffer.from([1 << 3, n]); // n < 128

function stored(meta: Buffer): Buffer {
  const node = Buffer.concat([ld(1, meta), ld(2, text('spec')), ld(3, text('status'))]);
  const unknown = Buffer.concat([
    ld(1, text('typemeta')),
    ld(2, node),
    ld(4, text('application/vnd.kubernetes.protobuf')),
  ]);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown]);
}

describe('withCreationTimestamp', () => {
  const date = new Date('2020-01-02T03:04:05.678Z'); // 1577934245 s
  const want = Buffer.from('08a5bbb5f005', 'hex'); // field 1 (seconds), varint 1577934245

  const cases: { what: string; meta: Buffer; expected: Buffer }[] = [
    {
      what: 'replaces an existing creationTimestamp and keeps the fields around it',
      meta: Buffer.concat([ld(1, text('name')), ld(8, seconds(7)), ld(9, text('deletion'))]),
      expected: Buffer.concat([ld(1, text('name')), ld(8, want), ld(9, text('deletion'))]),
    },
    {
      what: 'inserts a missing creationTimestamp in field order',
      meta: Buffer.concat([ld(1, text('name')), ld(11, text('labels'))]),
      expected: Buffer.concat([ld(1, text('name')), ld(8, want), ld(11, text('labels'))]),
    },
  ];
  for (const { what, meta, expected } of cases) {
    it(what, () => {
      assert.deepEqual(withCreationTimestamp(stored(meta), date), stored(expected));
    });
  }

  it('refuses bytes that are not a protobuf-encoded Kubernetes object', () => {
    assert.throws(
      () => withCreationTimestamp(Buffer.from('{"kind":"Node"}'), date),
      /not a protobuf/,
    );
  });
});
