// Which Nodes report which SAN, kept in the worker's memory from its own watch of Nodes
// (docs/adr/0019). Pure: the watch feeds it Node facts, the contest rule reads it. The same
// normalisation as the ownership rule (reportedAddressKeys), so a worker and `stampede check` given
// the same Nodes see the same claimants. No cap on keys per Node: a cap would hide a claim.
import { reportedAddressKeys } from '@stampede/policy';
import type { AddressClaimant, NodeFact } from '@stampede/policy';

/** What the worker keeps per Node: who it is and the SAN keys it reports. Never the Node object. */
export interface NodeClaims {
  readonly claimant: AddressClaimant;
  readonly keys: readonly string[];
  /** status.addresses as text: an update that leaves them alone is recognised without re-keying. */
  readonly addressText: string;
}

/** No DNS SAN is longer (RFC 1123); a longer Node "address" can never be asked for, so is not kept. */
const MAX_DNS_KEY = 'dns:'.length + 253;

export const addressTextOf = (addresses: NodeFact['addresses']): string =>
  addresses.map(a => `${a.type}\u0000${a.address}`).join('\n');

export function nodeClaims(node: NodeFact): NodeClaims {
  const keys = [...reportedAddressKeys(node)].filter(
    key => !key.startsWith('dns:') || key.length <= MAX_DNS_KEY,
  );
  return {
    claimant: { node: node.name, createdAtMs: node.createdAtMs },
    keys,
    addressText: addressTextOf(node.addresses),
  };
}

/**
 * key → claimants. Most keys have exactly one claimant, stored as itself; a shared key (a NAT
 * address every Node reports) holds a Map by Node name, so a Node's update costs O(its keys) even
 * when 100,000 Nodes share one of them.
 */
export class ClaimsIndex {
  readonly #byKey = new Map<string, AddressClaimant | Map<string, AddressClaimant>>();

  get size(): number {
    return this.#byKey.size;
  }

  /** Every Node reporting `key`, in no particular order. */
  claimants(key: string): readonly AddressClaimant[] {
    const found = this.#byKey.get(key);
    if (found === undefined) return [];
    return found instanceof Map ? [...found.values()] : [found];
  }

  #add(key: string, claimant: AddressClaimant): void {
    const found = this.#byKey.get(key);
    if (found === undefined || (!(found instanceof Map) && found.node === claimant.node)) {
      this.#byKey.set(key, claimant);
    } else if (found instanceof Map) {
      found.set(claimant.node, claimant);
    } else {
      this.#byKey.set(
        key,
        new Map([
          [found.node, found],
          [claimant.node, claimant],
        ]),
      );
    }
  }

  #remove(key: string, name: string): void {
    const found = this.#byKey.get(key);
    if (found === undefined) return;
    if (!(found instanceof Map)) {
      if (found.node === name) this.#byKey.delete(key);
      return;
    }
    found.delete(name);
    const [only, more] = found.values();
    if (only === undefined) this.#byKey.delete(key);
    else if (more === undefined) this.#byKey.set(key, only);
  }

  add(claims: NodeClaims): void {
    for (const key of claims.keys) this.#add(key, claims.claimant);
  }

  remove(claims: NodeClaims): void {
    for (const key of claims.keys) this.#remove(key, claims.claimant.node);
  }

  /** A Node added, changed (previous is its old claims) or deleted (next undefined). */
  replace(previous: NodeClaims | undefined, next: NodeClaims | undefined): void {
    if (previous === next) return;
    if (previous === undefined || next === undefined) {
      if (previous !== undefined) this.remove(previous);
      if (next !== undefined) this.add(next);
      return;
    }
    // Only the keys that changed: a Node with thousands of addresses that changes one costs one.
    const kept = new Set(next.keys);
    for (const key of previous.keys) if (!kept.has(key)) this.#remove(key, previous.claimant.node);
    for (const key of next.keys) this.#add(key, next.claimant);
  }
}

/**
 * Orders two resourceVersions of the same resource: etcd revisions, decimal integers that only
 * grow (Kubernetes documents them as comparable since KEP-5504). Undefined when either is not such
 * a number, in which case the caller cannot prove freshness and must not pretend to.
 */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!/^[1-9][0-9]*$/.test(a) || !/^[1-9][0-9]*$/.test(b)) return undefined;
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
