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
}

export function nodeClaims(node: NodeFact): NodeClaims {
  return {
    claimant: { node: node.name, createdAtMs: node.createdAtMs },
    keys: [...reportedAddressKeys(node)],
  };
}

/**
 * key → claimants. Most keys have exactly one claimant, so a lone claimant is stored as itself
 * rather than in an array: at 100,000 Nodes that halves the index's memory.
 */
export class ClaimsIndex {
  readonly #byKey = new Map<string, AddressClaimant | AddressClaimant[]>();

  get size(): number {
    return this.#byKey.size;
  }

  /** Every Node reporting `key`, in no particular order. */
  claimants(key: string): readonly AddressClaimant[] {
    const found = this.#byKey.get(key);
    if (found === undefined) return [];
    return Array.isArray(found) ? found : [found];
  }

  add(claims: NodeClaims): void {
    for (const key of claims.keys) {
      const found = this.#byKey.get(key);
      if (found === undefined) this.#byKey.set(key, claims.claimant);
      else if (Array.isArray(found)) found.push(claims.claimant);
      else this.#byKey.set(key, [found, claims.claimant]);
    }
  }

  remove(claims: NodeClaims): void {
    const name = claims.claimant.node;
    for (const key of claims.keys) {
      const found = this.#byKey.get(key);
      if (found === undefined) continue;
      if (!Array.isArray(found)) {
        if (found.node === name) this.#byKey.delete(key);
        continue;
      }
      const kept = found.filter(claimant => claimant.node !== name);
      const [only] = kept;
      if (only === undefined) this.#byKey.delete(key);
      else this.#byKey.set(key, kept.length === 1 ? only : kept);
    }
  }

  /** A Node added, changed (previous is its old claims) or deleted (next undefined). */
  replace(previous: NodeClaims | undefined, next: NodeClaims | undefined): void {
    if (previous !== undefined) this.remove(previous);
    if (next !== undefined) this.add(next);
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
