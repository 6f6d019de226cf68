// The contest fact (rule 14, docs/adr/0019): which other Nodes report a SAN the requester asks for.
// Absence comes from the worker's own Node watch, once it is live and has applied every change up to
// the version the requester was read at; presence is confirmed by reading the claimant from the API
// server now. Only the requested SANs are looked at, oldest claimant first, and the reads are
// bounded: a Node that lists thousands of other Nodes' addresses costs a few reads, not thousands.
import { reportedAddressKeys } from '@stampede/policy';
import type { AddressClaimant, Fact, Facts, NodeFact } from '@stampede/policy';
import type { NodeView } from './node-view.ts';

/** How long a job waits for the Node watch to reach the requesting Node's version before retrying. */
export const CATCH_UP_TIMEOUT_MS = 5_000;
/** Claimant reads per CSR; beyond it the fact is unavailable (a retry), never an approval. */
export const MAX_CLAIMANT_READS = 16;

export interface ContestSources {
  readonly nodes: Pick<NodeView, 'live' | 'claimants' | 'caughtUp'>;
  /** A fresh read of another Node: known, absent (deleted), or unavailable (a transient failure). */
  readonly readNode: (name: string) => Promise<Fact<NodeFact>>;
}

/** The requester as read now from the API server, with the version it was read at. */
export interface Requester {
  readonly node: NodeFact;
  readonly resourceVersion: string;
}

const unavailable = (reason: string): { state: 'unavailable'; reason: string } => ({
  state: 'unavailable',
  reason,
});

/** A creation time that is not a number counts as the newest (as in the contest rule). */
const age = (c: AddressClaimant): number =>
  Number.isFinite(c.createdAtMs) ? c.createdAtMs : Infinity;

/** The contest rule's order: older first, the name breaks a tie. */
export function olderFirst(a: AddressClaimant, b: AddressClaimant): number {
  return age(a) - age(b) || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
}

/**
 * Whether a claimant can change the contest for `key`: it is older than the requester (ties broken
 * by name, as the rule does), or the key is its own name. Newer claimants never win: not read.
 */
export function couldContest(
  key: string,
  claimant: AddressClaimant,
  requester: AddressClaimant,
): boolean {
  return key === `dns:${claimant.node}` || olderFirst(claimant, requester) < 0;
}

/** Reads each claimant at most once per CSR, and no more than MAX_CLAIMANT_READS in all. */
function boundedReader(read: ContestSources['readNode']) {
  const reads = new Map<string, Promise<Fact<NodeFact>>>();
  const reader = (name: string): Promise<Fact<NodeFact>> | undefined => {
    const known = reads.get(name);
    if (known !== undefined) return known;
    if (reads.size >= MAX_CLAIMANT_READS) return undefined;
    const reading = read(name);
    reads.set(name, reading);
    return reading;
  };
  /** Every Node read so far, as read. */
  reader.fresh = async (): Promise<NodeFact[]> =>
    (await Promise.all(reads.values())).flatMap(f => (f.state === 'known' ? [f.value] : []));
  return reader;
}

type KeyResult =
  { readonly confirmed: AddressClaimant | undefined } | { readonly stop: Fact<never> };

/** The oldest claimant of `key` that the API server confirms still reports it. */
async function confirmOldest(
  key: string,
  self: AddressClaimant,
  sources: ContestSources,
  read: ReturnType<typeof boundedReader>,
): Promise<KeyResult> {
  const suspects = sources.nodes
    .claimants(key)
    .filter(c => c.node !== self.node && couldContest(key, c, self))
    .sort(olderFirst);
  for (const suspect of suspects) {
    const reading = read(suspect.node);
    if (reading === undefined) {
      return { stop: unavailable(`more than ${MAX_CLAIMANT_READS} Nodes to confirm as claimants`) };
    }
    const fresh = await reading;
    if (fresh.state === 'unavailable') return { stop: fresh };
    if (fresh.state === 'absent' || !reportedAddressKeys(fresh.value).has(key)) continue;
    const claimant = { node: fresh.value.name, createdAtMs: fresh.value.createdAtMs };
    if (couldContest(key, claimant, self)) return { confirmed: claimant };
  }
  return { confirmed: undefined };
}

/** Why the view cannot vouch for absence yet: not live, or not caught up with the requester. */
async function notFresh(
  sources: ContestSources,
  requester: Requester,
  signal: AbortSignal,
): Promise<Fact<never> | undefined> {
  if (!sources.nodes.live()) return unavailable('the Node watch is not live');
  const { resourceVersion } = requester;
  const caught = await sources.nodes.caughtUp(resourceVersion, CATCH_UP_TIMEOUT_MS, signal);
  if (caught === 'timeout') {
    return unavailable(
      `the Node watch has not reached Node ${requester.node.name}'s resourceVersion ${resourceVersion}`,
    );
  }
  if (caught === 'incomparable') {
    return unavailable(
      `resourceVersion ${resourceVersion} cannot be ordered against the Node watch`,
    );
  }
  return undefined;
}

/**
 * The claimants fact for `requestedKeys` (the CSR's well-formed SAN keys). Keys the requester does
 * not report are denied by ownership anyway, and its own name is never contested, so neither is read.
 */
export async function contestFact(
  sources: ContestSources,
  requester: Requester,
  requestedKeys: readonly string[],
  signal: AbortSignal,
): Promise<Facts['claimants']> {
  const { node } = requester;
  const stale = await notFresh(sources, requester, signal);
  if (stale !== undefined) return stale;
  const own = reportedAddressKeys(node);
  const keys = requestedKeys.filter(key => own.has(key) && key !== `dns:${node.name}`);
  const self: AddressClaimant = { node: node.name, createdAtMs: node.createdAtMs };
  const read = boundedReader(sources.readNode);
  const results = await Promise.all(keys.map(key => confirmOldest(key, self, sources, read)));
  const confirmed = new Map<string, AddressClaimant>();
  for (const [i, result] of results.entries()) {
    if ('stop' in result) return result.stop;
    const key = keys[i];
    if (key !== undefined && result.confirmed !== undefined) confirmed.set(key, result.confirmed);
  }
  // A Node read for one key may, as read now, report another requested key that the lagging view
  // does not show it with yet: what was read wins over what the view said.
  for (const fresh of await read.fresh()) {
    const reports = reportedAddressKeys(fresh);
    const claimant = { node: fresh.name, createdAtMs: fresh.createdAtMs };
    for (const key of keys) {
      if (confirmed.has(key) || !reports.has(key) || !couldContest(key, claimant, self)) continue;
      confirmed.set(key, claimant);
    }
  }
  return {
    state: 'known',
    value: key => {
      const claimant = confirmed.get(key);
      return claimant === undefined ? [] : [claimant];
    },
  };
}
