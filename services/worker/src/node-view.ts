// The worker's own view of which Nodes report which SAN (docs/adr/0019): a list/watch of Nodes over
// the worker's authenticated connection to the API server, reduced to claims in memory. Nothing in
// it comes from Redis, so nobody who can write to Redis can add, hide or age a claim.
//
// A view can lag behind the API server. caughtUp() is the answer: a caller that read the
// requesting Node at resourceVersion v waits until the view has applied every Node change up to v,
// so no claim older than the request is missing from it.
import type { KubeClient, ListWatchStats, Node } from '@stampede/kube';
import { nodeFactFromObject } from '@stampede/policy';
import type { AddressClaimant } from '@stampede/policy';
import { ClaimsIndex, compareResourceVersions, nodeClaims } from './claims-index.ts';
import type { NodeClaims } from './claims-index.ts';

export interface NodeView {
  /** True once the first LIST completed. */
  synced(): boolean;
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

/** A Node reduced to its claims; a Node the policy cannot read claims nothing it could be denied for. */
export function projectNodeClaims(node: Node): NodeClaims | undefined {
  const fact = nodeFactFromObject(node);
  return fact.ok ? nodeClaims(fact.value) : undefined;
}

interface Waiter {
  readonly resourceVersion: string;
  readonly resolve: (outcome: 'caught-up' | 'timeout') => void;
}

export function startNodeView(options: {
  readonly kube: Pick<KubeClient, 'watchNodes'>;
  readonly signal: AbortSignal;
}): NodeView {
  const index = new ClaimsIndex();
  const waiters = new Set<Waiter>();
  let progress = '';

  const reached = (wanted: string): boolean =>
    progress !== '' && (compareResourceVersions(progress, wanted) ?? -1) >= 0;

  const listWatch = options.kube.watchNodes<NodeClaims>({
    signal: options.signal,
    project: projectNodeClaims,
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
    claimants: key => index.claimants(key),
    caughtUp(resourceVersion, timeoutMs, signal) {
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
