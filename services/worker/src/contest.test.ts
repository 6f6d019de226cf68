// The contest fact over fakes that fail on any read they were not set up for: which Nodes it reads,
// in which order, how many at most, and when it is a retry instead of an answer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AddressClaimant, Fact, Facts, NodeFact } from '@stampede/policy';
import { MAX_CLAIMANT_READS, contestFact, couldContest } from './contest.ts';
import type { ContestSources } from './contest.ts';

const OLD = 1_000;
const MID = 2_000;
const NEW = 3_000;

const node = (name: string, createdAtMs: number, ...ips: string[]): NodeFact => ({
  name,
  createdAtMs,
  addresses: [
    { type: 'Hostname', address: name },
    ...ips.map(address => ({ type: 'InternalIP', address })),
  ],
});
const claimant = (n: NodeFact): AddressClaimant => ({ node: n.name, createdAtMs: n.createdAtMs });

interface Setup {
  readonly requester?: NodeFact;
  /** The CSR's SAN keys; default: every key the requester reports. */
  readonly keys?: readonly string[];
  /** What the watch says reports each key. */
  readonly watch?: Record<string, readonly AddressClaimant[]>;
  /** What a fresh read of each Node gives; a Node missing here fails the test if it is read. */
  readonly fresh?: Record<string, Fact<NodeFact>>;
  readonly live?: boolean;
  readonly caughtUp?: 'caught-up' | 'timeout' | 'incomparable';
}

const me = node('me', MID, '10.1.0.1', '10.1.0.2');

async function contest(
  setup: Setup,
): Promise<{ fact: Facts['claimants']; reads: string[]; waitedFor: string[] }> {
  const reads: string[] = [];
  const waitedFor: string[] = [];
  const sources: ContestSources = {
    nodes: {
      live: () => setup.live ?? true,
      claimants: key => setup.watch?.[key] ?? [],
      caughtUp: rv => {
        waitedFor.push(rv);
        return Promise.resolve(setup.caughtUp ?? 'caught-up');
      },
    },
    readNode: name => {
      reads.push(name);
      const fresh = setup.fresh?.[name];
      if (fresh === undefined) throw new Error(`unexpected read of Node ${name}`);
      return Promise.resolve(fresh);
    },
  };
  const requester = setup.requester ?? me;
  const keys = setup.keys ?? ['dns:me', 'ip:10.1.0.1', 'ip:10.1.0.2'];
  const fact = await contestFact(
    sources,
    { node: requester, resourceVersion: '500' },
    keys,
    new AbortController().signal,
  );
  return { fact, reads, waitedFor };
}

function claimantsOf(fact: Facts['claimants'], key: string): string[] {
  if (fact.state !== 'known') assert.fail(`claimants ${JSON.stringify(fact)}`);
  return fact.value(key).map(c => c.node);
}

const known = (n: NodeFact): Fact<NodeFact> => ({ state: 'known', value: n });

describe('contestFact', () => {
  it('waits for the Node watch to reach the version the requester was read at, and reads nobody when nobody else claims', async () => {
    const { fact, waitedFor, reads } = await contest({});
    assert.deepEqual(waitedFor, ['500']);
    assert.deepEqual(reads, []);
    assert.deepEqual(claimantsOf(fact, 'ip:10.1.0.1'), []);
  });

  it('confirms an older claimant with the API server, and it contests', async () => {
    const old = node('old', OLD, '10.1.0.1');
    const { fact, reads } = await contest({
      watch: { 'ip:10.1.0.1': [claimant(old)] },
      fresh: { old: known(old) },
    });
    assert.deepEqual(reads, ['old']);
    assert.deepEqual(claimantsOf(fact, 'ip:10.1.0.1'), ['old']);
  });

  it('drops a claimant the watch still shows but the API server has deleted', async () => {
    const old = node('old', OLD, '10.1.0.1');
    const { fact } = await contest({
      watch: { 'ip:10.1.0.1': [claimant(old)] },
      fresh: { old: { state: 'absent' } },
    });
    assert.deepEqual(claimantsOf(fact, 'ip:10.1.0.1'), []);
  });

  it('drops a claimant that no longer reports the address', async () => {
    const old = node('old', OLD, '10.1.0.1');
    const { fact } = await contest({
      watch: { 'ip:10.1.0.1': [claimant(old)] },
      fresh: { old: known(node('old', OLD, '10.1.0.99')) },
    });
    assert.deepEqual(claimantsOf(fact, 'ip:10.1.0.1'), []);
  });

  it('counts what a claimant reports now, even for a key the lagging watch does not show it with', async () => {
    const old = node('old', OLD, '10.1.0.1');
    const { fact } = await contest({
      watch: { 'ip:10.1.0.1': [claimant(old)] },
      fresh: { old: known(node('old', OLD, '10.1.0.2')) },
    });
    assert.deepEqual(claimantsOf(fact, 'ip:10.1.0.1'), []);
    assert.deepEqual(claimantsOf(fact, 'ip:10.1.0.2'), ['old']);
  });

  it('does not read a newer claimant: it can never win', async () => {
    const { fact, reads } = await contest({
      watch: { 'ip:10.1.0.1': [claimant(node('young', NEW))] },
    });
    assert.deepEqual(reads, []);
    assert.deepEqual(claimantsOf(fact, 'ip:10.1.0.1'), []);
  });

  it('reads a claimant created in the same millisecond whose name sorts first (the rule breaks ties by name)', async () => {
    const twin = node('a-twin', MID, '10.1.0.1');
    const { fact, reads } = await contest({
      watch: { 'ip:10.1.0.1': [claimant(twin), claimant(node('z-twin', MID))] },
      fresh: { 'a-twin': known(twin) },
    });
    assert.deepEqual(reads, ['a-twin']);
    assert.deepEqual(claimantsOf(fact, 'ip:10.1.0.1'), ['a-twin']);
  });

  it('reads a newer Node whose name the requester asks for as a DNS SAN', async () => {
    const young = node('young', NEW, '10.1.0.5');
    const requester: NodeFact = {
      ...me,
      addresses: [...me.addresses, { type: 'InternalDNS', address: 'young' }],
    };
    const { fact, reads } = await contest({
      requester,
      keys: ['dns:young'],
      watch: { 'dns:young': [claimant(young)] },
      fresh: { young: known(young) },
    });
    assert.deepEqual(reads, ['young']);
    assert.deepEqual(claimantsOf(fact, 'dns:young'), ['young']);
  });

  it('looks only at the requested SANs, never at every address the requester lists', async () => {
    const ips = Array.from({ length: 500 }, (_, i) => `10.2.${i >> 8}.${i & 255}`);
    const hoarder = node('hoarder', MID, ...ips);
    const watch = Object.fromEntries(
      ips.map((ip, i) => [`ip:${ip}`, [claimant(node(`victim-${i}`, OLD))]]),
    );
    const { fact, reads } = await contest({ requester: hoarder, keys: ['dns:hoarder'], watch });
    assert.deepEqual(reads, [], 'its own name is never contested, and no IP was asked for');
    assert.equal(fact.state, 'known');
  });

  it('stops at the oldest claimant the API server confirms', async () => {
    const oldest = node('oldest', OLD - 1, '10.1.0.1');
    const old = node('old', OLD, '10.1.0.1');
    const { fact, reads } = await contest({
      watch: { 'ip:10.1.0.1': [claimant(old), claimant(oldest)] },
      fresh: { oldest: known(oldest), old: known(old) },
    });
    assert.deepEqual(reads, ['oldest']);
    assert.deepEqual(claimantsOf(fact, 'ip:10.1.0.1'), ['oldest']);
  });

  it(`is a retry after ${MAX_CLAIMANT_READS} claimant reads that confirm nothing, never an approval`, async () => {
    const ghosts = Array.from({ length: MAX_CLAIMANT_READS + 4 }, (_, i) =>
      node(`gone-${String(i).padStart(2, '0')}`, OLD + i),
    );
    const { fact, reads } = await contest({
      watch: { 'ip:10.1.0.1': ghosts.map(claimant) },
      fresh: Object.fromEntries(ghosts.map(g => [g.name, { state: 'absent' } as const])),
    });
    assert.equal(reads.length, MAX_CLAIMANT_READS);
    if (fact.state !== 'unavailable') assert.fail(fact.state);
    assert.match(fact.reason, /more than 16 Nodes to confirm/);
  });

  const retries: { name: string; setup: Setup; mentions: RegExp }[] = [
    { name: 'a watch that is not live is a retry', setup: { live: false }, mentions: /not live/ },
    {
      name: 'a watch that does not reach the requester’s version in time is a retry',
      setup: { caughtUp: 'timeout' },
      mentions: /has not reached Node me's resourceVersion 500/,
    },
    {
      name: 'a version that cannot be ordered is a retry',
      setup: { caughtUp: 'incomparable' },
      mentions: /cannot be ordered/,
    },
    {
      name: 'an older claimant that cannot be read is a retry',
      setup: {
        watch: { 'ip:10.1.0.1': [claimant(node('old', OLD))] },
        fresh: { old: { state: 'unavailable', reason: 'GET claimant Node old failed: boom' } },
      },
      mentions: /claimant Node old failed: boom/,
    },
  ];
  for (const c of retries) {
    it(c.name, async () => {
      const { fact } = await contest(c.setup);
      if (fact.state !== 'unavailable') assert.fail(`claimants ${fact.state}`);
      assert.match(fact.reason, c.mentions);
    });
  }
});

describe('couldContest', () => {
  const self = { node: 'm', createdAtMs: MID };
  const cases: { name: string; key: string; other: AddressClaimant; want: boolean }[] = [
    {
      name: 'an older Node can',
      key: 'ip:10.0.0.1',
      other: { node: 'x', createdAtMs: OLD },
      want: true,
    },
    {
      name: 'a newer Node cannot',
      key: 'ip:10.0.0.1',
      other: { node: 'x', createdAtMs: NEW },
      want: false,
    },
    {
      name: 'a same-age Node whose name sorts first can',
      key: 'ip:10.0.0.1',
      other: { node: 'a', createdAtMs: MID },
      want: true,
    },
    {
      name: 'a same-age Node whose name sorts last cannot',
      key: 'ip:10.0.0.1',
      other: { node: 'z', createdAtMs: MID },
      want: false,
    },
    {
      name: 'a Node with an unreadable age counts as the newest',
      key: 'ip:10.0.0.1',
      other: { node: 'a', createdAtMs: Number.NaN },
      want: false,
    },
    {
      name: 'a newer Node can when the key is its own name',
      key: 'dns:x',
      other: { node: 'x', createdAtMs: NEW },
      want: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(couldContest(c.key, c.other, self), c.want);
    });
  }
});
