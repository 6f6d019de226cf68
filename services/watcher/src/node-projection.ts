// What the watcher keeps per Node and writes to the address index (docs/adr/0007): name, version,
// creation time and canonical address keys. Never the Node object.
import { reportedAddressKeys } from '@stampede/policy';
import type { Node } from '@stampede/kube';
import type { IndexedNode } from '@stampede/queue';

/** More addresses than any real Node reports; a Node beyond it is indexed with the first ones. */
export const MAX_KEYS_PER_NODE = 64;

export function projectIndexedNode(node: Node): IndexedNode | undefined {
  const name = node.metadata?.name;
  const resourceVersion = node.metadata?.resourceVersion;
  if (name === undefined || resourceVersion === undefined) return undefined;
  const created = Date.parse(node.metadata?.creationTimestamp ?? '');
  const createdAtMs = Number.isNaN(created) ? 0 : created;
  const addresses = (node.status?.addresses ?? []).map(({ type, address }) => ({ type, address }));
  // Keys with whitespace cannot be SANs and would break the index's space-separated list.
  const keys = [...reportedAddressKeys({ name, createdAtMs, addresses })].filter(
    key => !/\s/.test(key),
  );
  return { name, resourceVersion, createdAtMs, keys: keys.slice(0, MAX_KEYS_PER_NODE) };
}
