import { describe } from 'node:test';
import { evaluate } from '../evaluate.ts';
import { runCases } from '../../test/cases.ts';
import type { Case } from '../../test/cases.ts';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const value = new Uint8Array([0x30, 0]);
const failure = (
  code: 'MalformedPem' | 'MalformedRequest' | 'DuplicateExtension',
  message: string,
) => ({ ok: false, failure: { code, message } }) as const;

const cases: Case[] = [
  {
    name: 'denies a request larger than maxRequestBytes without parsing it',
    request: { request: new Uint8Array(2048) },
    policy: { maxRequestBytes: 1024 },
    parsed: undefined,
    expect: ['deny', 'RequestTooLarge'],
    message: /2048 bytes, more than maxRequestBytes 1024/,
    verifierCalls: 0,
  },
  {
    name: 'approves a request of exactly maxRequestBytes',
    request: { request: new Uint8Array(1024) },
    policy: { maxRequestBytes: 1024 },
    expect: 'approve',
  },
  {
    name: 'denies a request that is not PEM, with the parser’s code',
    parsed: failure('MalformedPem', 'no PEM block found'),
    expect: ['deny', 'MalformedPem'],
    message: /MalformedPem: no PEM block found/,
    verifierCalls: 0,
  },
  {
    name: 'denies a request whose DER does not parse',
    parsed: failure('MalformedRequest', 'trailing bytes'),
    expect: ['deny', 'MalformedRequest'],
  },
  {
    name: 'denies a request with a duplicate extension',
    parsed: failure('DuplicateExtension', 'subjectAltName twice'),
    expect: ['deny', 'DuplicateExtension'],
  },
  {
    name: 'still reports requester, usage and lifetime violations when the request does not parse',
    parsed: failure('MalformedPem', 'no PEM block found'),
    request: {
      username: 'alice',
      usages: ['client auth'],
      expirationSeconds: 60,
    },
    expect: ['deny', 'InvalidUsername', 'MalformedPem', 'DisallowedUsages', 'ExpirationTooShort'],
  },
  {
    name: 'denies a parse failure at once even while the Node is missing',
    parsed: failure('MalformedRequest', 'bad'),
    facts: { node: { state: 'absent' } },
    expect: ['deny', 'MalformedRequest'],
  },
  {
    name: 'denies an attribute other than extensionRequest (challengePassword)',
    csr: {
      attributes: [
        { oid: EXTENSION_REQUEST, values: [value] },
        { oid: '1.2.840.113549.1.9.7', values: [value] },
      ],
    },
    expect: ['deny', 'DisallowedAttribute'],
    message: /1\.2\.840\.113549\.1\.9\.7/,
  },
  {
    name: 'denies two extensionRequest attributes',
    csr: {
      attributes: [
        { oid: EXTENSION_REQUEST, values: [value] },
        { oid: EXTENSION_REQUEST, values: [value] },
      ],
    },
    expect: ['deny', 'MalformedRequest'],
  },
  {
    name: 'denies an extensionRequest with two values',
    csr: { attributes: [{ oid: EXTENSION_REQUEST, values: [value, value] }] },
    expect: ['deny', 'MalformedRequest'],
  },
  {
    name: 'denies a request version other than 1',
    csr: { version: 1 },
    expect: ['deny', 'MalformedRequest'],
    message: /version is 2/,
  },
  {
    name: 'denies a request without an extensionRequest, for it has no SANs',
    csr: { attributes: [], extensions: [], sans: [] },
    expect: ['deny', 'NoSans'],
  },
];

describe('rule 5: the request encoding', () => {
  runCases(cases, evaluate);
});
