import { describe } from 'node:test';
import { evaluate } from '../evaluate.ts';
import { runCases } from '../../test/cases.ts';
import type { Case } from '../../test/cases.ts';

const DS = 'digital signature';
const KE = 'key encipherment';
const SA = 'server auth';
const usages = (...list: string[]) => ({ usages: list });

const cases: Case[] = [
  // Rule 9: usages.
  { name: 'approves {digital signature, server auth}', request: usages(DS, SA), expect: 'approve' },
  {
    name: 'approves {digital signature, key encipherment, server auth}',
    request: usages(DS, KE, SA),
    expect: 'approve',
  },
  { name: 'approves the usages in any order', request: usages(SA, KE, DS), expect: 'approve' },
  {
    name: 'denies client auth added to the serving usages',
    request: usages(DS, KE, SA, 'client auth'),
    expect: ['deny', 'DisallowedUsages'],
    message: /client auth/,
  },
  {
    name: 'denies client auth with only two serving usages',
    request: usages(DS, SA, 'client auth'),
    expect: ['deny', 'DisallowedUsages'],
  },
  { name: 'denies server auth alone', request: usages(SA), expect: ['deny', 'DisallowedUsages'] },
  {
    name: 'denies key encipherment without digital signature',
    request: usages(KE, SA),
    expect: ['deny', 'DisallowedUsages'],
  },
  {
    name: 'denies a duplicated usage',
    request: usages(DS, SA, SA),
    expect: ['deny', 'DisallowedUsages'],
  },
  {
    name: 'denies cert sign',
    request: usages(DS, SA, 'cert sign'),
    expect: ['deny', 'DisallowedUsages'],
  },
  { name: 'denies no usages at all', request: usages(), expect: ['deny', 'DisallowedUsages'] },
  {
    name: 'denies a usage in the wrong case',
    request: usages(DS, 'Server Auth'),
    expect: ['deny', 'DisallowedUsages'],
  },
  {
    name: 'denies the three-usage set when the policy allows only the two-usage set',
    request: usages(DS, KE, SA),
    policy: { allowedUsageSets: [[DS, SA]] },
    expect: ['deny', 'DisallowedUsages'],
    message: /are not \{digital signature, server auth\}$/,
  },
  // Rule 15: lifetime.
  { name: 'approves a request without expirationSeconds', expect: 'approve' },
  {
    name: 'approves expirationSeconds of exactly 600',
    request: { expirationSeconds: 600 },
    expect: 'approve',
  },
  {
    name: 'denies expirationSeconds of 599',
    request: { expirationSeconds: 599 },
    expect: ['deny', 'ExpirationTooShort'],
    message: /599 is less than 600/,
  },
  {
    name: 'approves expirationSeconds of exactly 367 days',
    request: { expirationSeconds: 31_708_800 },
    expect: 'approve',
  },
  {
    name: 'denies expirationSeconds of 367 days and a second',
    request: { expirationSeconds: 31_708_801 },
    expect: ['deny', 'ExpirationTooLong'],
  },
  {
    name: 'denies a lifetime above a configured maximum of a day',
    request: { expirationSeconds: 86_401 },
    policy: { expirationSeconds: { max: 86_400 } },
    expect: ['deny', 'ExpirationTooLong'],
  },
  {
    name: 'denies a negative lifetime',
    request: { expirationSeconds: -1 },
    expect: ['deny', 'ExpirationTooShort'],
  },
  {
    name: 'denies a lifetime that is not a number',
    request: { expirationSeconds: Number.NaN },
    expect: ['deny', 'ExpirationTooShort'],
  },
];

describe('rules 9 and 15: usages and lifetime', () => {
  runCases(cases, evaluate);
});
