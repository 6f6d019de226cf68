import { describe } from 'node:test';
import { evaluate } from '../evaluate.ts';
import { NOW, dns, ip } from '../../test/fixtures.ts';
import { runCases } from '../../test/cases.ts';
import type { Case } from '../../test/cases.ts';
import type { InventoryAnswer } from '../types.ts';

const REQUIRE = { evidence: { require: ['inventory' as const] } };
const answer = (entries: Record<string, { vouched: boolean; reason?: string }>) => ({
  inventory: {
    state: 'known',
    value: new Map(Object.entries(entries)) as InventoryAnswer,
  } as const,
});
const vouchedIp = answer({ 'ip:10.0.0.1': { vouched: true } });

const cases: Case[] = [
  {
    name: 'approves when the inventory vouches for every SAN but the node name',
    policy: REQUIRE,
    facts: vouchedIp,
    expect: 'approve',
    message: /passed .*inventory/,
  },
  {
    name: 'needs no voucher for the node name (the identity binds it)',
    policy: REQUIRE,
    csr: { sans: [dns('node-a')] },
    facts: answer({}),
    expect: 'approve',
  },
  {
    name: 'denies SanNotVouched for a SAN the inventory refuses, with its reason',
    policy: REQUIRE,
    facts: answer({ 'ip:10.0.0.1': { vouched: false, reason: 'not in the inventory' } }),
    expect: ['deny', 'SanNotVouched'],
    message: /IP SAN 10\.0\.0\.1: the inventory refuses it: not in the inventory/,
  },
  {
    name: 'denies SanNotVouched for a SAN the inventory does not mention',
    policy: REQUIRE,
    facts: answer({ 'dns:node-a': { vouched: true } }),
    expect: ['deny', 'SanNotVouched'],
    message: /does not vouch for it/,
  },
  {
    name: 'denies a DNS SAN other than the node name unless vouched for',
    policy: REQUIRE,
    csr: { sans: [dns('node-a'), dns('node-a.example.com'), ip('10.0.0.1')] },
    node: {
      addresses: [
        { type: 'Hostname', address: 'node-a.example.com' },
        { type: 'InternalIP', address: '10.0.0.1' },
      ],
    },
    facts: vouchedIp,
    expect: ['deny', 'SanNotVouched'],
    message: /DNS SAN node-a\.example\.com/,
  },
  {
    name: 'escapes the reason an inventory gives before it reaches a condition',
    policy: REQUIRE,
    facts: answer({ 'ip:10.0.0.1': { vouched: false, reason: 'bad\nline' } }),
    expect: ['deny', 'SanNotVouched'],
    message: /refuses it: "bad\\u000aline"/,
  },
  {
    name: 'retries while the inventory is unavailable, never denies for it',
    policy: REQUIRE,
    facts: { inventory: { state: 'unavailable', reason: 'timed out after 2000 ms' } },
    expect: ['retry', 'inventory', 'InventoryUnavailable'],
    message: /timed out/,
  },
  {
    name: 'retries when the shell never asked the inventory',
    policy: REQUIRE,
    expect: ['retry', 'inventory', 'InventoryUnavailable'],
  },
  {
    name: 'still denies an address the Node does not own, whatever the inventory says',
    policy: REQUIRE,
    csr: { sans: [dns('node-a'), ip('10.9.9.9')] },
    facts: answer({ 'ip:10.9.9.9': { vouched: true } }),
    expect: ['deny', 'SanNotOwned'],
  },
  {
    name: 'denies a refused SAN even while another fact is unavailable',
    policy: REQUIRE,
    facts: {
      ...answer({ 'ip:10.0.0.1': { vouched: false } }),
      authorization: { state: 'unavailable', reason: 'timeout' },
    },
    expect: ['deny', 'SanNotVouched'],
  },
  {
    name: 'asks nothing of the inventory when the policy does not require it',
    facts: { inventory: { state: 'unavailable', reason: 'down' } },
    expect: 'approve',
  },
];

describe('evidence: the inventory vouches for each SAN (evidence.require: [inventory])', () => {
  runCases(cases, evaluate);
});

// Issued-after is when the operator began to require the inventory; NOW is 2026-01-01T12:00Z.
const ACCEPT = {
  evidence: {
    require: ['inventory' as const],
    servedCertificate: { issuedAfter: '2025-12-25T00:00:00Z', maxAgeDays: 20 },
  },
};
const DAY = 86_400_000;
const served = (keys: string[], notBeforeMs = NOW - DAY) => ({
  servedCertificate: { state: 'known', value: { sanKeys: new Set(keys), notBeforeMs } } as const,
});
const inventoryDown = { inventory: { state: 'unavailable', reason: 'timed out' } } as const;

const servedCases: Case[] = [
  {
    name: 'approves a renewal whose SANs the served certificate holds while the inventory is down',
    policy: ACCEPT,
    facts: { ...served(['ip:10.0.0.1']), ...inventoryDown },
    expect: 'approve',
  },
  {
    name: 'retries while the inventory is down for a SAN the served certificate lacks',
    policy: ACCEPT,
    facts: { ...served(['ip:10.0.0.2']), ...inventoryDown },
    expect: ['retry', 'inventory', 'InventoryUnavailable'],
  },
  {
    name: 'retries for a served certificate issued before the inventory was required',
    policy: ACCEPT,
    facts: { ...served(['ip:10.0.0.1'], Date.UTC(2025, 11, 24)), ...inventoryDown },
    expect: ['retry', 'inventory', 'InventoryUnavailable'],
  },
  {
    name: 'retries for a served certificate older than maxAgeDays',
    policy: ACCEPT,
    facts: { ...served(['ip:10.0.0.1'], NOW - 21 * DAY), ...inventoryDown },
    expect: ['retry', 'inventory', 'InventoryUnavailable'],
  },
  {
    name: 'takes a served certificate of any age when no maxAgeDays is set',
    policy: {
      evidence: {
        require: ['inventory' as const],
        servedCertificate: { issuedAfter: '2025-01-01T00:00:00+02:00' },
      },
    },
    facts: { ...served(['ip:10.0.0.1'], NOW - 300 * DAY), ...inventoryDown },
    expect: 'approve',
  },
  {
    name: 'denies a SAN the inventory does not mention even though the served certificate holds it',
    policy: ACCEPT,
    facts: { ...served(['ip:10.0.0.1']), ...answer({}) },
    expect: ['deny', 'SanNotVouched'],
    message: /does not vouch for it/,
  },
  {
    name: 'denies a SAN the inventory refuses even though the served certificate holds it',
    policy: ACCEPT,
    facts: {
      ...served(['ip:10.0.0.1']),
      ...answer({ 'ip:10.0.0.1': { vouched: false, reason: 'retired' } }),
    },
    expect: ['deny', 'SanNotVouched'],
    message: /refuses it: retired/,
  },
  {
    name: 'keeps the retry when the served certificate could not be read',
    policy: ACCEPT,
    facts: { servedCertificate: { state: 'unavailable', reason: 'refused' }, ...inventoryDown },
    expect: ['retry', 'inventory', 'InventoryUnavailable'],
  },
  {
    name: 'lets the inventory vouch whatever the served certificate is',
    policy: ACCEPT,
    facts: { servedCertificate: { state: 'unavailable', reason: 'refused' }, ...vouchedIp },
    expect: 'approve',
  },
  {
    name: 'ignores the served certificate where the policy does not accept it',
    policy: REQUIRE,
    facts: { ...served(['ip:10.0.0.1']), ...inventoryDown },
    expect: ['retry', 'inventory', 'InventoryUnavailable'],
  },
  {
    name: 'still denies an address the Node does not own when the served certificate holds it',
    policy: ACCEPT,
    csr: { sans: [dns('node-a'), ip('10.9.9.9')] },
    facts: { ...served(['ip:10.9.9.9']), ...inventoryDown },
    expect: ['deny', 'SanNotOwned'],
  },
  {
    name: 'never reads a served certificate SAN for a key the CSR does not request',
    policy: ACCEPT,
    csr: { sans: [dns('node-a'), dns('node-a.example.com'), ip('10.0.0.1')] },
    node: {
      addresses: [
        { type: 'Hostname', address: 'node-a.example.com' },
        { type: 'InternalIP', address: '10.0.0.1' },
      ],
    },
    facts: { ...served(['ip:10.0.0.1', 'dns:other.example.com']), ...inventoryDown },
    expect: ['retry', 'inventory', 'InventoryUnavailable'],
  },
];

describe('evidence: during an inventory outage the served certificate stands in (servedCertificate)', () => {
  runCases(servedCases, evaluate);
});
