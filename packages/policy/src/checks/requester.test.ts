import { describe } from 'node:test';
import { evaluate } from '../evaluate.ts';
import { runCases } from '../../test/cases.ts';
import type { Case } from '../../test/cases.ts';

const subjectFor = (cn: string) => [
  [{ oid: '2.5.4.10', tag: 19, value: 'system:nodes' }],
  [{ oid: '2.5.4.3', tag: 12, value: cn }],
];

const cases: Case[] = [
  { name: 'approves a request from system:node:<name> with a matching CN', expect: 'approve' },
  {
    name: 'denies a username without the system:node: prefix',
    request: { username: 'node-a' },
    csr: { subject: subjectFor('node-a') },
    expect: ['deny', 'InvalidUsername'],
    message: /username node-a is not system:node:<nodeName>/,
  },
  {
    name: 'denies a service account that asks for a kubelet serving certificate',
    request: { username: 'system:serviceaccount:kube-system:evil' },
    csr: { subject: subjectFor('system:serviceaccount:kube-system:evil') },
    expect: ['deny', 'InvalidUsername'],
  },
  {
    name: 'denies an empty node name',
    request: { username: 'system:node:' },
    csr: { subject: subjectFor('system:node:') },
    expect: ['deny', 'InvalidUsername'],
  },
  {
    name: 'denies an uppercase node name, which no Node can have',
    request: { username: 'system:node:Node-A' },
    csr: { subject: subjectFor('system:node:Node-A') },
    expect: ['deny', 'InvalidUsername'],
  },
  {
    name: 'denies a node name with a slash',
    request: { username: 'system:node:node-a/../b' },
    csr: { subject: subjectFor('system:node:node-a/../b') },
    expect: ['deny', 'InvalidUsername'],
  },
  {
    name: 'denies system:nodes: (the group) used as a username prefix',
    request: { username: 'system:nodes:node-a' },
    csr: { subject: subjectFor('system:nodes:node-a') },
    expect: ['deny', 'InvalidUsername'],
  },
  {
    name: 'denies an invalid username even while its Node is missing',
    request: { username: 'system:node:-bad' },
    csr: { subject: subjectFor('system:node:-bad') },
    facts: { node: { state: 'absent' } },
    expect: ['deny', 'InvalidUsername'],
  },
  {
    name: 'denies a requester outside system:nodes',
    request: { groups: ['system:authenticated'] },
    expect: ['deny', 'MissingGroup'],
    message: /not in group system:nodes/,
  },
  {
    name: 'denies a requester outside system:authenticated',
    request: { groups: ['system:nodes'] },
    expect: ['deny', 'MissingGroup'],
    message: /not in group system:authenticated/,
  },
  {
    name: 'reports both missing groups',
    request: { groups: [] },
    expect: ['deny', 'MissingGroup', 'MissingGroup'],
  },
  {
    name: 'approves a requester with more groups than required',
    request: { groups: ['system:nodes', 'system:authenticated', 'team:x'] },
    expect: 'approve',
  },
  {
    name: 'denies a group that only resembles system:nodes',
    request: { groups: ['System:Nodes', 'system:authenticated'] },
    expect: ['deny', 'MissingGroup'],
  },
];

describe('rules 3–4: the requester is a node', () => {
  runCases(cases, evaluate);
});
