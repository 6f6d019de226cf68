// gatherFacts over fakes that fail on any call they were not set up for: which Nodes it reads, and
// when the contest fact is a retry instead of an answer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryableError } from '@stampede/kube';
import type { Node } from '@stampede/kube';
import { defaultPolicy } from '@stampede/policy';
import type { AddressClaimant, CsrRequest, Facts } from '@stampede/policy';
import { gatherFacts } from './facts.ts';
import type { FactSources } from './facts.ts';

const wireNode = (name: string, created: string, rv: string, ...ips: string[]): Node => ({
  metadata: { name, creationTimestamp: created, resourceVersion: rv, uid: `uid-${name}` },
  status: {
    addresses: [
      { type: 'Hostname', address: name },
      ...ips.map(address => ({ type: 'InternalIP', address })),
    ],
  },
});

const OLD = '2026-01-01T00:00:00Z';
const MID = '2026-06-01T00:00:00Z';
const NEW = '2026-11-01T00:00:00Z';
const ms = (text: string): number => Date.parse(text);

const request: CsrRequest = {
  name: 'csr-1',
  uid: 'u1',
  signerName: 'kubernetes.io/kubelet-serving',
  username: 'system:node:me',
  groups: ['system:nodes', 'system:authenticated'],
  extra: {},
  usages: ['digital signature', 'server auth'],
  request: new Uint8Array(),
  conditionTypes: [],
  hasCertificate: false,
  deleting: false,
  createdAtMs: ms(NEW),
};

interface Setup {
  /** What GET returns per Node name: an object, undefined (404) or an error. */
  readonly nodes: Record<string, Node | undefined | Error>;
  /** What the watch says reports each key. */
  readonly watch?: Record<string, readonly AddressClaimant[]>;
  readonly synced?: boolean;
  readonly caughtUp?: 'caught-up' | 'timeout' | 'incomparable';
}

async function gather(
  setup: Setup,
): Promise<{ facts: Facts; reads: string[]; waitedFor: string[] }> {
  const reads: string[] = [];
  const waitedFor: string[] = [];
  const sources: FactSources = {
    now: () => ms(NEW) + 1_000,
    kube: {
      getNode: name => {
        reads.push(name);
        if (!(name in setup.nodes)) throw new Error(`unexpected GET Node ${name}`);
        const answer = setup.nodes[name];
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
      createSubjectAccessReview: () =>
        Promise.resolve({ allowed: true, denied: false, reason: '' }),
    },
    nodes: {
      synced: () => setup.synced ?? true,
      claimants: key => setup.watch?.[key] ?? [],
      caughtUp: rv => {
        waitedFor.push(rv);
        return Promise.resolve(setup.caughtUp ?? 'caught-up');
      },
    },
    serviceRanges: { current: () => Promise.resolve({ state: 'known', value: ['10.96.0.0/16'] }) },
  };
  const facts = await gatherFacts(sources, request, defaultPolicy, new AbortController().signal);
  return { facts, reads, waitedFor };
}

const me = wireNode('me', MID, '500', '10.1.0.1');
function claimantsOf(facts: Facts, key: string): string[] {
  const { claimants } = facts;
  if (claimants.state !== 'known') assert.fail(`claimants ${JSON.stringify(claimants)}`);
  return claimants.value(key).map(c => c.node);
}

describe('gatherFacts: who else reports the requester’s addresses', () => {
  it('waits for the Node watch to reach the version the requester was read at', async () => {
    const { facts, waitedFor, reads } = await gather({ nodes: { me } });
    assert.deepEqual(waitedFor, ['500']);
    assert.deepEqual(reads, ['me']);
    assert.deepEqual(claimantsOf(facts, 'ip:10.1.0.1'), []);
  });

  it('confirms an older claimant with the API server, and it contests', async () => {
    const old = wireNode('old', OLD, '400', '10.1.0.1');
    const { facts, reads } = await gather({
      nodes: { me, old },
      watch: { 'ip:10.1.0.1': [{ node: 'old', createdAtMs: ms(OLD) }] },
    });
    assert.deepEqual(reads.sort(), ['me', 'old']);
    assert.deepEqual(claimantsOf(facts, 'ip:10.1.0.1'), ['old']);
  });

  it('drops a claimant the watch still shows but the API server has deleted', async () => {
    const { facts } = await gather({
      nodes: { me, old: undefined },
      watch: { 'ip:10.1.0.1': [{ node: 'old', createdAtMs: ms(OLD) }] },
    });
    assert.deepEqual(claimantsOf(facts, 'ip:10.1.0.1'), []);
  });

  it('drops a claimant that no longer reports the address', async () => {
    const moved = wireNode('old', OLD, '600', '10.1.0.99');
    const { facts } = await gather({
      nodes: { me, old: moved },
      watch: { 'ip:10.1.0.1': [{ node: 'old', createdAtMs: ms(OLD) }] },
    });
    assert.deepEqual(claimantsOf(facts, 'ip:10.1.0.1'), []);
  });

  it('does not read a newer claimant: it can never win', async () => {
    const { facts, reads } = await gather({
      nodes: { me },
      watch: { 'ip:10.1.0.1': [{ node: 'young', createdAtMs: ms(NEW) }] },
    });
    assert.deepEqual(reads, ['me']);
    assert.deepEqual(claimantsOf(facts, 'ip:10.1.0.1'), []);
  });

  it('reads a newer Node whose name the requester reports as its own address', async () => {
    const meWithOthersName: Node = {
      ...me,
      status: {
        addresses: [
          { type: 'Hostname', address: 'young' },
          { type: 'InternalIP', address: '10.1.0.1' },
        ],
      },
    };
    const young = wireNode('young', NEW, '450', '10.1.0.5');
    const { facts, reads } = await gather({
      nodes: { me: meWithOthersName, young },
      watch: { 'dns:young': [{ node: 'young', createdAtMs: ms(NEW) }] },
    });
    assert.deepEqual(reads.sort(), ['me', 'young']);
    assert.deepEqual(claimantsOf(facts, 'dns:young'), ['young']);
  });

  const retries: { name: string; setup: Setup; mentions: RegExp }[] = [
    {
      name: 'a watch that has not listed yet is a retry',
      setup: { nodes: { me }, synced: false },
      mentions: /not synced/,
    },
    {
      name: 'a watch that does not reach the requester’s version in time is a retry',
      setup: { nodes: { me }, caughtUp: 'timeout' },
      mentions: /has not reached Node me's resourceVersion 500/,
    },
    {
      name: 'a version that cannot be ordered is a retry',
      setup: { nodes: { me }, caughtUp: 'incomparable' },
      mentions: /cannot be ordered/,
    },
    {
      name: 'an older claimant that cannot be read is a retry, never an approval',
      setup: {
        nodes: {
          me,
          old: new RetryableError({ message: 'boom', method: 'GET', path: '/x', kind: 'server' }),
        },
        watch: { 'ip:10.1.0.1': [{ node: 'old', createdAtMs: ms(OLD) }] },
      },
      mentions: /claimant Node old failed: boom/,
    },
    {
      name: 'a requester that cannot be read leaves the contest unknown',
      setup: {
        nodes: {
          me: new RetryableError({ message: 'down', method: 'GET', path: '/x', kind: 'network' }),
        },
      },
      mentions: /requesting Node is not known/,
    },
  ];
  for (const c of retries) {
    it(c.name, async () => {
      const { claimants } = (await gather(c.setup)).facts;
      if (claimants.state !== 'unavailable') assert.fail(`claimants ${claimants.state}`);
      assert.match(claimants.reason, c.mentions);
    });
  }

  it('passes the Service ranges through', async () => {
    const { facts } = await gather({ nodes: { me } });
    assert.deepEqual(facts.serviceRanges, { state: 'known', value: ['10.96.0.0/16'] });
  });
});
