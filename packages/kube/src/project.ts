import type { Node, NodeAddresses } from './types.ts';

/**
 * Keeps a Node's name, uid and `status.addresses`: all the address index needs, a few hundred bytes
 * instead of the tens of kilobytes of a whole Node (images, conditions, capacity).
 */
export function projectNodeAddresses(node: Node): NodeAddresses | undefined {
  const name = node.metadata?.name;
  if (name === undefined) return undefined;
  const addresses = (node.status?.addresses ?? []).map(a => ({ type: a.type, address: a.address }));
  return { name, uid: node.metadata?.uid ?? '', addresses };
}
