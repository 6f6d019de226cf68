// The Node address index in Redis (docs/adr/0007): which Nodes report which address, and when each
// Node was created, so a worker can find the other claimants of a SAN with one round trip.
//
// Written by every watcher replica at once. Each Node's entry carries the resourceVersion it was
// built from, and a write older than the stored one is dropped inside Redis (a Lua script), so two
// watchers applying the same events in different orders converge. A deleted Node leaves a tombstone
// for a while so that a late write from a lagging replica cannot resurrect it.
import type { Redis } from 'ioredis';
import { QUEUE_PREFIX } from '@stampede/contracts';

/** What the index keeps per Node: a few dozen bytes per address, never the Node object. */
export interface IndexedNode {
  readonly name: string;
  /** metadata.resourceVersion of the object this entry was built from. */
  readonly resourceVersion: string;
  readonly createdAtMs: number;
  /** Canonical SAN keys (`dns:<name>`, `ip:<address>`) the Node reports. */
  readonly keys: readonly string[];
}

export interface Claimant {
  readonly node: string;
  readonly createdAtMs: number;
}

export type ClaimantsLookup =
  | { readonly synced: true; readonly claimants: ReadonlyMap<string, readonly Claimant[]> }
  | { readonly synced: false };

export interface AddressIndex {
  /** Records a Node's addresses (added or updated). False when a newer version is already stored. */
  put(node: IndexedNode): Promise<boolean>;
  /**
   * Removes a Node unless a newer version is stored; `resourceVersion` is the last version seen of the
   * deleted object, or the list's for a relist.
   */
  remove(name: string, resourceVersion: string): Promise<boolean>;
  /**
   * Makes the index equal to `nodes` as of `resourceVersion` (a full list): puts every Node, removes
   * indexed Nodes that are not in the list, then marks the index synced for `syncedTtlMs`.
   */
  sync(
    nodes: readonly IndexedNode[],
    resourceVersion: string,
    syncedTtlMs: number,
  ): Promise<SyncResult>;
  /** Every Node reporting each key. `synced: false` when no watcher has completed a sync lately. */
  lookup(keys: readonly string[]): Promise<ClaimantsLookup>;
}

export interface SyncResult {
  readonly written: number;
  readonly removed: number;
}

const ROOT = `${QUEUE_PREFIX}:address-index`;
const NODES = `${ROOT}:nodes`;
const SYNCED = `${ROOT}:synced`;
const nodeKey = (name: string): string => `${ROOT}:node:${name}`;
const ADDRESS_PREFIX = `${ROOT}:address:`;

/** How long a deleted Node's tombstone outlives it: longer than any watcher lags behind. */
const TOMBSTONE_MS = 15 * 60_000;

// resourceVersions are etcd revisions: decimal integers that only grow. They are compared as
// decimal strings (Lua numbers are doubles); anything else is applied when it differs.
const NEWER = `
local function newer(a, b)
  if not b then return true end
  if not (string.match(a, '^%d+$') and string.match(b, '^%d+$')) then return a ~= b end
  if #a ~= #b then return #a > #b end
  return a > b
end
`;

// KEYS: node hash, nodes set. ARGV: address prefix, name, rv, createdAtMs, space-separated keys.
const PUT = `${NEWER}
local current = redis.call('HMGET', KEYS[1], 'rv', 'k')
if current[1] and not newer(ARGV[3], current[1]) then return 0 end
local wanted = {}
for key in string.gmatch(ARGV[5], '%S+') do wanted[key] = true end
if current[2] then
  for key in string.gmatch(current[2], '%S+') do
    if not wanted[key] then redis.call('HDEL', ARGV[1] .. key, ARGV[2]) end
  end
end
for key in pairs(wanted) do redis.call('HSET', ARGV[1] .. key, ARGV[2], ARGV[4]) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'rv', ARGV[3], 'c', ARGV[4], 'k', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
`;

// KEYS: node hash, nodes set. ARGV: address prefix, name, rv, tombstone ttl ms.
// A remove at the stored version applies: it is that version's deletion, or a list without it.
const REMOVE = `${NEWER}
local current = redis.call('HMGET', KEYS[1], 'rv', 'k')
if current[1] and newer(current[1], ARGV[3]) then return 0 end
if current[2] then
  for key in string.gmatch(current[2], '%S+') do redis.call('HDEL', ARGV[1] .. key, ARGV[2]) end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'rv', ARGV[3], 'd', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SREM', KEYS[2], ARGV[2])
return 1
`;

interface IndexCommands {
  stampedeIndexPut(...args: string[]): Promise<number>;
  stampedeIndexRemove(...args: string[]): Promise<number>;
}

interface PipelineCommands {
  stampedeIndexPut(...args: string[]): unknown;
  stampedeIndexRemove(...args: string[]): unknown;
}

function defineCommands(redis: Redis): IndexCommands {
  // defineCommand caches the script by SHA and reloads it after a Redis restart (NOSCRIPT).
  redis.defineCommand('stampedeIndexPut', { numberOfKeys: 2, lua: PUT });
  redis.defineCommand('stampedeIndexRemove', { numberOfKeys: 2, lua: REMOVE });
  return redis as unknown as IndexCommands;
}

const putArgs = (node: IndexedNode): string[] => [
  nodeKey(node.name),
  NODES,
  ADDRESS_PREFIX,
  node.name,
  node.resourceVersion,
  String(node.createdAtMs),
  [...new Set(node.keys)].join(' '),
];

const removeArgs = (name: string, resourceVersion: string): string[] => [
  nodeKey(name),
  NODES,
  ADDRESS_PREFIX,
  name,
  resourceVersion,
  String(TOMBSTONE_MS),
];

const BATCH = 500;

async function pipelined(redis: Redis, argsList: readonly string[][], put: boolean) {
  let applied = 0;
  for (let i = 0; i < argsList.length; i += BATCH) {
    const pipeline = redis.pipeline();
    const commands = pipeline as unknown as PipelineCommands;
    for (const args of argsList.slice(i, i + BATCH)) {
      if (put) commands.stampedeIndexPut(...args);
      else commands.stampedeIndexRemove(...args);
    }
    for (const [error, result] of (await pipeline.exec()) ?? []) {
      if (error !== null) throw error;
      if (result === 1) applied++;
    }
  }
  return applied;
}

function parseClaimants(fields: Record<string, string>): Claimant[] {
  return Object.entries(fields).map(([node, created]) => ({ node, createdAtMs: Number(created) }));
}

/**
 * The index over `redis`. Keys with a space are never written (Node addresses with whitespace are
 * not valid SANs anyway); the caller passes canonical keys.
 */
export function createAddressIndex(redis: Redis): AddressIndex {
  const commands = defineCommands(redis);
  return {
    async put(node) {
      return (await commands.stampedeIndexPut(...putArgs(node))) === 1;
    },
    async remove(name, resourceVersion) {
      return (await commands.stampedeIndexRemove(...removeArgs(name, resourceVersion))) === 1;
    },
    async sync(nodes, resourceVersion, syncedTtlMs) {
      const written = await pipelined(redis, nodes.map(putArgs), true);
      const listed = new Set(nodes.map(node => node.name));
      const indexed = await redis.smembers(NODES);
      const gone = indexed.filter(name => !listed.has(name));
      const removed = await pipelined(
        redis,
        gone.map(name => removeArgs(name, resourceVersion)),
        false,
      );
      await redis.set(SYNCED, resourceVersion, 'PX', Math.max(1, Math.round(syncedTtlMs)));
      return { written, removed };
    },
    async lookup(keys) {
      const unique = [...new Set(keys)];
      const pipeline = redis.pipeline().exists(SYNCED);
      for (const key of unique) pipeline.hgetall(ADDRESS_PREFIX + key);
      const results = (await pipeline.exec()) ?? [];
      for (const [error] of results) if (error !== null) throw error;
      if (results[0]?.[1] !== 1) return { synced: false };
      const claimants = new Map<string, readonly Claimant[]>();
      unique.forEach((key, i) => {
        const fields = results[i + 1]?.[1] as Record<string, string> | null | undefined;
        claimants.set(key, fields ? parseClaimants(fields) : []);
      });
      return { synced: true, claimants };
    },
  };
}
