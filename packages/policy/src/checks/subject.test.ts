import { describe } from 'node:test';
import { evaluate } from '../evaluate.ts';
import { runCases } from '../../test/cases.ts';
import type { Case } from '../../test/cases.ts';
import type { Rdn } from '../types.ts';

const O = (value = 'system:nodes', tag = 19) => ({ oid: '2.5.4.10', tag, value });
const CN = (value = 'system:node:node-a', tag = 12) => ({ oid: '2.5.4.3', tag, value });
const subject = (...rdns: Rdn[]) => ({ subject: rdns });
const ext = (oid: string, critical = false) => ({
  oid,
  critical,
  value: new Uint8Array([0x30, 0]),
});
const SAN = ext('2.5.29.17');

const cases: Case[] = [
  // Rule 7a: extensions.
  { name: 'approves a request whose only extension is subjectAltName', expect: 'approve' },
  {
    name: 'approves a critical subjectAltName (Go marks it critical when the subject is empty)',
    csr: { extensions: [ext('2.5.29.17', true)] },
    expect: 'approve',
  },
  {
    name: 'denies a requested basicConstraints extension',
    csr: { extensions: [SAN, ext('2.5.29.19', true)] },
    expect: ['deny', 'DisallowedExtension'],
    message: /basicConstraints \(2\.5\.29\.19\), critical/,
  },
  {
    name: 'denies a requested keyUsage extension',
    csr: { extensions: [SAN, ext('2.5.29.15')] },
    expect: ['deny', 'DisallowedExtension'],
    message: /keyUsage/,
  },
  {
    name: 'denies a requested extKeyUsage extension (client auth smuggling)',
    csr: { extensions: [ext('2.5.29.37'), SAN] },
    expect: ['deny', 'DisallowedExtension'],
    message: /extKeyUsage/,
  },
  {
    name: 'denies an unknown non-critical extension',
    csr: { extensions: [SAN, ext('1.3.6.1.4.1.99999.1')] },
    expect: ['deny', 'DisallowedExtension'],
    message: /1\.3\.6\.1\.4\.1\.99999\.1/,
  },
  {
    name: 'reports every disallowed extension',
    csr: { extensions: [SAN, ext('2.5.29.19'), ext('2.5.29.15'), ext('2.5.29.37')] },
    expect: ['deny', 'DisallowedExtension', 'DisallowedExtension', 'DisallowedExtension'],
  },
  // Rule 8: subject.
  { name: 'approves CN and O in the order Go writes them (O first)', expect: 'approve' },
  { name: 'approves CN before O', csr: subject([CN()], [O()]), expect: 'approve' },
  {
    name: 'approves a PrintableString CN',
    csr: subject([O()], [CN(undefined, 19)]),
    expect: 'approve',
  },
  { name: 'approves a UTF8String O', csr: subject([O(undefined, 12)], [CN()]), expect: 'approve' },
  {
    name: 'denies a CN naming another node',
    csr: subject([O()], [CN('system:node:node-b')]),
    expect: ['deny', 'CommonNameMismatch'],
    message: /subject CN system:node:node-b is not the requester system:node:node-a/,
  },
  {
    name: 'denies a CN that differs only in case',
    csr: subject([O()], [CN('system:node:Node-A')]),
    expect: ['deny', 'CommonNameMismatch'],
  },
  {
    name: 'denies an organization other than system:nodes',
    csr: subject([O('system:masters')], [CN()]),
    expect: ['deny', 'OrganizationMismatch'],
  },
  {
    name: 'denies a missing organization',
    csr: subject([CN()]),
    expect: ['deny', 'InvalidSubject'],
    message: /0 O attributes/,
  },
  {
    name: 'denies a missing CN',
    csr: subject([O()]),
    expect: ['deny', 'InvalidSubject'],
    message: /0 CN attributes/,
  },
  {
    name: 'denies an empty subject',
    csr: subject(),
    expect: ['deny', 'InvalidSubject', 'InvalidSubject'],
  },
  {
    name: 'denies two CNs even when the first one matches (Go keeps the last)',
    csr: subject([O()], [CN()], [CN('system:node:node-b')]),
    expect: ['deny', 'InvalidSubject', 'CommonNameMismatch'],
  },
  {
    name: 'denies two identical CNs',
    csr: subject([O()], [CN()], [CN()]),
    expect: ['deny', 'InvalidSubject'],
  },
  {
    name: 'denies two organizations',
    csr: subject([O()], [O('system:masters')], [CN()]),
    expect: ['deny', 'InvalidSubject', 'OrganizationMismatch'],
  },
  {
    name: 'denies an extra OU attribute',
    csr: subject([O()], [{ oid: '2.5.4.11', tag: 12, value: 'ops' }], [CN()]),
    expect: ['deny', 'InvalidSubject'],
    message: /attribute 2\.5\.4\.11 is not allowed/,
  },
  {
    name: 'denies an emailAddress attribute',
    csr: subject([O()], [CN()], [{ oid: '1.2.840.113549.1.9.1', tag: 22, value: 'a@b' }]),
    expect: ['deny', 'InvalidSubject'],
  },
  {
    name: 'denies a multi-valued RDN holding both CN and O',
    csr: subject([O(), CN()]),
    expect: ['deny', 'InvalidSubject'],
    message: /RDN with more than one attribute/,
  },
  {
    name: 'denies a CN encoded as IA5String',
    csr: subject([O()], [CN(undefined, 22)]),
    expect: ['deny', 'InvalidSubject'],
    message: /tag 22/,
  },
  {
    name: 'denies an O encoded as BMPString',
    csr: subject([O(undefined, 30)], [CN()]),
    expect: ['deny', 'InvalidSubject'],
  },
  {
    name: 'denies a CN with a trailing NUL and shows it escaped',
    csr: subject([O()], [CN('system:node:node-a\u0000')]),
    expect: ['deny', 'CommonNameMismatch'],
    message: /"system:node:node-a\\u0000"/,
  },
];

describe('rules 7a–8: extensions and subject', () => {
  runCases(cases, evaluate);
});
