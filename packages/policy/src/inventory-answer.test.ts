import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INVENTORY_API_VERSION, readInventoryAnswer, sanOfKey } from './inventory-answer.ts';
import type { InventoryQuestion } from './inventory-answer.ts';

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
const verdicts = (body: string) => {
  const fact = readInventoryAnswer(body, QUESTION);
  return fact.state === 'known' ? Object.fromEntries(fact.value) : fact;
};

describe('readInventoryAnswer: what an inventory answer vouches for', () => {
  const cases: [string, string, unknown][] = [
    [
      'vouches for the SANs marked vouched, in canonical form',
      answer([
        { type: 'IP', value: '10.0.0.1', vouched: true },
        { type: 'IP', value: 'FD00:0::A', vouched: true },
        { type: 'DNS', value: 'Node-A.', vouched: false, reason: 'unknown host' },
      ]),
      {
        'ip:10.0.0.1': { vouched: true },
        'ip:fd00::a': { vouched: true },
        'dns:node-a': { vouched: false, reason: 'unknown host' },
      },
    ],
    [
      'ignores verdicts on SANs it was not asked about',
      answer([{ type: 'IP', value: '10.9.9.9', vouched: true }]),
      {},
    ],
    [
      'counts a SAN named twice with two verdicts as refused',
      answer([
        { type: 'IP', value: '10.0.0.1', vouched: true },
        { type: 'IP', value: '10.0.0.1', vouched: false, reason: 'retired' },
      ]),
      { 'ip:10.0.0.1': { vouched: false, reason: 'retired' } },
    ],
    [
      'counts a SAN refused first and vouched for later as refused',
      answer([
        { type: 'IP', value: '10.0.0.1', vouched: false, reason: 'retired' },
        { type: 'IP', value: '10.0.0.1', vouched: true },
      ]),
      { 'ip:10.0.0.1': { vouched: false, reason: 'retired' } },
    ],
    [
      'counts two spellings of one SAN with two verdicts as refused',
      answer([
        { type: 'IP', value: 'fd00::a', vouched: false, reason: 'retired' },
        { type: 'IP', value: 'FD00:0:0::A', vouched: true },
      ]),
      { 'ip:fd00::a': { vouched: false, reason: 'retired' } },
    ],
    [
      'skips an entry whose value is no address',
      answer([{ type: 'IP', value: 'not-an-ip', vouched: true }]),
      {},
    ],
    [
      'is unavailable when the answer is for another CSR',
      answer([{ type: 'IP', value: '10.0.0.1', vouched: true }], 'uid-2'),
      { state: 'unavailable', reason: 'inventory answered for another CSR (uid differs)' },
    ],
    [
      'is unavailable when the body is not JSON',
      'yes',
      { state: 'unavailable', reason: /not an InventoryReview/ },
    ],
    [
      'is unavailable when an entry carries a field it does not know',
      answer([{ type: 'IP', value: '10.0.0.1', vouched: true, trust: 'me' }]),
      { state: 'unavailable', reason: /malformed at response\.sans\.0/ },
    ],
    [
      'is unavailable when vouched is not a boolean',
      answer([{ type: 'IP', value: '10.0.0.1', vouched: 'true' }]),
      { state: 'unavailable', reason: /malformed at response\.sans\.0\.vouched/ },
    ],
    [
      'is unavailable for another apiVersion',
      JSON.stringify({
        apiVersion: 'v2',
        kind: 'InventoryReview',
        response: { uid: 'uid-1', sans: [] },
      }),
      { state: 'unavailable', reason: /malformed at apiVersion/ },
    ],
  ];
  for (const [name, body, want] of cases) {
    it(name, () => {
      const got = verdicts(body);
      if (
        want !== null &&
        typeof want === 'object' &&
        'reason' in want &&
        want.reason instanceof RegExp
      ) {
        assert.equal((got as { state: string }).state, 'unavailable');
        assert.match((got as { reason: string }).reason, want.reason);
      } else assert.deepEqual(got, want);
    });
  }

  it('spells SAN keys as the review names them', () => {
    assert.deepEqual(sanOfKey('dns:node-a'), { type: 'DNS', value: 'node-a' });
    assert.deepEqual(sanOfKey('ip:fd00::a'), { type: 'IP', value: 'fd00::a' });
  });
});
