// gatherFacts over fakes that fail on any call they were not set up for: what it reads for which
// fact (the contest's own branches are in contest.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryableError } from '@stampede/kube';
import type { Node } from '@stampede/kube';
import { defaultPolicy, loadPolicy } from '@stampede/policy';
import type { AddressClaimant, CsrRequest, Fact, Facts, InventoryAnswer } from '@stampede/policy';
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
  /** The CSR's SAN keys; default: the requester's name and IP. */
  readonly keys?: readonly string[];
  /** With it, the policy requires the inventory and accepts served certificates. */
  readonly inventory?: Fact<InventoryAnswer>;
}

const servedPolicy = (() => {
  const loaded = loadPolicy({
    evidence: { require: ['inventory'], servedCertificate: { issuedAfter: OLD } },
  });
  if (!loaded.ok) throw new Error(loaded.errors.join('; '));
  return loaded.policy;
})();

async function gather(
  setup: Setup,
): Promise<{ facts: Facts; reads: string[]; waitedFor: string[]; dialled: string[] }> {
  const reads: string[] = [];
  const waitedFor: string[] = [];
  const dialled: string[] = [];
  const inventory = setup.inventory;
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
      live: () => true,
      claimants: key => setup.watch?.[key] ?? [],
      caughtUp: rv => {
        waitedFor.push(rv);
        return Promise.resolve('caught-up');
      },
    },
    serviceRanges: { current: () => Promise.resolve({ state: 'known', value: ['10.96.0.0/16'] }) },
    ...(inventory === undefined
      ? {}
      : {
          inventory: { review: () => Promise.resolve(inventory) },
          servedCertificates: {
            read: host => {
              dialled.push(host);
              return Promise.resolve({ state: 'unavailable', reason: 'closed' });
            },
          },
        }),
  };
  const keys = setup.keys ?? ['dns:me', 'ip:10.1.0.1'];
  const signal = new AbortController().signal;
  const policy = inventory === undefined ? defaultPolicy : servedPolicy;
  const input = { request, policy, requestedKeys: keys, csr: { name: 'csr-1', uid: 'u1' } };
  const facts = await gatherFacts(sources, input, signal);
  return { facts, reads, waitedFor, dialled };
}

const me = wireNode('me', MID, '500', '10.1.0.1');
function claimantsOf(facts: Facts, key: string): string[] {
  const { claimants } = facts;
  if (claimants.state !== 'known') assert.fail(`claimants ${JSON.stringify(claimants)}`);
  return claimants.value(key).map(c => c.node);
}

describe('gatherFacts', () => {
  it('reads the requester, waits for the watch at its version, and confirms an older claimant of a requested SAN', async () => {
    const old = wireNode('old', OLD, '400', '10.1.0.1');
    const { facts, reads, waitedFor } = await gather({
      nodes: { me, old },
      watch: { 'ip:10.1.0.1': [{ node: 'old', createdAtMs: ms(OLD) }] },
    });
    assert.deepEqual(waitedFor, ['500']);
    assert.deepEqual(reads.sort(), ['me', 'old']);
    assert.deepEqual(claimantsOf(facts, 'ip:10.1.0.1'), ['old']);
  });

  it('does not look at claimants of addresses the CSR does not ask for', async () => {
    const { facts, reads } = await gather({
      nodes: { me },
      keys: ['dns:me'],
      watch: { 'ip:10.1.0.1': [{ node: 'old', createdAtMs: ms(OLD) }] },
    });
    assert.deepEqual(reads, ['me']);
    assert.deepEqual(claimantsOf(facts, 'ip:10.1.0.1'), []);
  });

  it('leaves the contest unknown when the requester cannot be read', async () => {
    const down = new RetryableError({
      message: 'down',
      method: 'GET',
      path: '/x',
      kind: 'network',
    });
    const { claimants, node } = (await gather({ nodes: { me: down } })).facts;
    assert.equal(node.state, 'unavailable');
    if (claimants.state !== 'unavailable') assert.fail(`claimants ${claimants.state}`);
    assert.match(claimants.reason, /requesting Node is not known/);
  });

  it('rethrows a 429 from a claimant read, so every worker slows down', async () => {
    const throttled = new RetryableError({
      message: 'slow down',
      method: 'GET',
      path: '/x',
      kind: 'throttled',
      retryAfterMs: 1_000,
    });
    await assert.rejects(
      gather({
        nodes: { me, old: throttled },
        watch: { 'ip:10.1.0.1': [{ node: 'old', createdAtMs: ms(OLD) }] },
      }),
      (error: unknown) => error === throttled,
    );
  });

  it('passes the Service ranges through', async () => {
    const { facts } = await gather({ nodes: { me } });
    assert.deepEqual(facts.serviceRanges, { state: 'known', value: ['10.96.0.0/16'] });
  });
});

describe('gatherFacts: the served certificate', () => {
  const cases: [string, Fact<InventoryAnswer>, string[]][] = [
    [
      'is read at the InternalIP the CSR asks for while the inventory cannot answer',
      { state: 'unavailable', reason: 'timed out' },
      ['10.1.0.1'],
    ],
    [
      'is not read when the inventory answers (its word stands, and no dial is made)',
      { state: 'known', value: new Map() },
      [],
    ],
  ];
  for (const [name, inventory, dialled] of cases) {
    it(name, async () => {
      const gathered = await gather({ nodes: { me }, inventory });
      assert.deepEqual(gathered.dialled, dialled);
    });
  }
});
