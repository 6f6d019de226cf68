// The worker's own view of which Nodes report which SAN (docs/adr/0019): a list/watch of Nodes over
// the worker's authenticated connection to the API server, reduced to claims in memory. Nothing in
// it comes from Redis, so nobody who can write to Redis can add, hide or age a claim.
//
// A view can lag behind the API server. caughtUp() is the answer: a caller that read the
// requesting Node at resourceVersion v waits until the view has applied every Node change up to v,
// so no claim older than the request is missing from it.
import type { KubeClient, ListWatch, ListWatchStats, Node } from '@stampede/kube';
import { parseKubeTimestamp } from '@stampede/policy';
import type { AddressClaimant, NodeFact } from '@stampede/policy';
import { ClaimsIndex, addressTextOf, compareResourceVersions, nodeClaims } from './claims-index.ts';
import type { NodeClaims } from './claims-index.ts';

/**
 * The view is live while the watch has delivered something (an event, a bookmark, a LIST) this
 * recently: the API server sends a bookmark about once a minute on a quiet watch, so a stream that
 * has gone silent for longer is broken, and a view behind it may be missing claims.
 */
export const LIVE_WITHIN_MS = 150_000;

export interface NodeView {
  /** True once the first LIST completed. */
  synced(): boolean;
  /** Synced, and the watch has delivered something within LIVE_WITHIN_MS. */
  live(): boolean;
  /** Every Node the view knows to report `key`. */
  claimants(key: string): readonly AddressClaimant[];
  /**
   * Resolves 'caught-up' once the view holds every Node change up to `resourceVersion`, 'timeout'
   * after `timeoutMs`, 'incomparable' when a version is not an etcd revision.
   */
  caughtUp(
    resourceVersion: string,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<'caught-up' | 'timeout' | 'incomparable'>;
  stats(): ListWatchStats & { readonly nodes: number; readonly keys: number };
  readonly done: Promise<void>;
}

/** status.addresses, keeping only well-typed entries (the API validates them; a view never crashes). */
function addressesOf(node: Node): NodeFact['addresses'] {
  return (node.status?.addresses ?? []).flatMap(({ type, address }) =>
    typeof type === 'string' && typeof address === 'string' ? [{ type, address }] : [],
  );
}

/**
 * A Node reduced to its claims, read only as far as the claims need (no schema pass over the whole
 * Node on every status update). `previous` is returned as is when the addresses did not change,
 * which most status updates do not. A Node without a name or a readable creation time claims
 * nothing: the API server always sets both.
 */
export function projectNodeClaims(node: Node, previous?: NodeClaims): NodeClaims | undefined {
  const name = node.metadata?.name;
  const created = node.metadata?.creationTimestamp;
  const createdAtMs = typeof created === 'string' ? parseKubeTimestamp(created) : undefined;
  if (typeof name !== 'string' || name === '' || createdAtMs === undefined) return undefined;
  const addresses = addressesOf(node);
  if (
    previous?.claimant.node === name &&
    previous.claimant.createdAtMs === createdAtMs &&
    previous.addressText === addressTextOf(addresses)
  ) {
    return previous;
  }
  return nodeClaims({ name, createdAtMs, addresses });
}

interface Waiter {
  readonly resourceVersion: string;
  readonly resolve: (outcome: 'caught-up' | 'timeout') => void;
}

export function startNodeView(options: {
  readonly kube: Pick<KubeClient, 'watchNodes'>;
  readonly signal: AbortSignal;
  readonly now?: () => number;
}): NodeView {
  const index = new ClaimsIndex();
  const waiters = new Set<Waiter>();
  let progress = '';

  const reached = (wanted: string): boolean =>
    progress !== '' && (compareResourceVersions(progress, wanted) ?? -1) >= 0;

  const now = options.now ?? Date.now;
  const listWatch: ListWatch<NodeClaims> = options.kube.watchNodes<NodeClaims>({
    signal: options.signal,
    project: (node: Node): NodeClaims | undefined =>
      projectNodeClaims(node, listWatch.store.get(node.metadata?.name ?? '')),
    onChange: change => {
      index.replace(change.previous, change.type === 'deleted' ? undefined : change.value);
    },
    onProgress: resourceVersion => {
      progress = resourceVersion;
      for (const waiter of waiters) {
        if (!reached(waiter.resourceVersion)) continue;
        waiters.delete(waiter);
        waiter.resolve('caught-up');
      }
    },
  });

  return {
    done: listWatch.done,
    synced: () => listWatch.stats().synced,
    live: () => {
      const stats = listWatch.stats();
      return stats.synced && now() - stats.lastActivityAtMs < LIVE_WITHIN_MS;
    },
    claimants: key => index.claimants(key),
    caughtUp(resourceVersion, timeoutMs, signal) {
      if (signal.aborted) return Promise.resolve('timeout');
      if (progress !== '' && compareResourceVersions(progress, resourceVersion) === undefined) {
        return Promise.resolve('incomparable');
      }
      if (reached(resourceVersion)) return Promise.resolve('caught-up');
      return new Promise(resolve => {
        const finish = (outcome: 'caught-up' | 'timeout'): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', expire);
          waiters.delete(waiter);
          resolve(outcome);
        };
        const expire = (): void => {
          finish('timeout');
        };
        const waiter: Waiter = { resourceVersion, resolve: finish };
        const timer = setTimeout(expire, timeoutMs);
        signal.addEventListener('abort', expire, { once: true });
        waiters.add(waiter);
      });
    },
    stats: () => ({ ...listWatch.stats(), nodes: listWatch.store.size, keys: index.size }),
  };
}
