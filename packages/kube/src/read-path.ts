// Which copy of an object a GET reads is chosen by its resourceVersion query parameter alone: no
// parameter is a quorum read from etcd, anything else is served from the API server's watch cache.
import type { ReadOptions } from './types.ts';

/** The path of a GET, with the resourceVersion the caller asked for (none: a quorum read). */
export function readPath(path: string, options: ReadOptions): string {
  const { resourceVersion } = options;
  if (resourceVersion === undefined) return path;
  return `${path}?${new URLSearchParams({ resourceVersion }).toString()}`;
}
