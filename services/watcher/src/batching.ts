// Bounds on what the watcher holds while it hands a fleet's pending CSRs to Redis. A resync of
// 100,000 pending CSRs as one bulk add built every job, its span and BullMQ's pipeline at once,
// and a 192 MiB heap ran out during a 100,000-CSR storm; sent in chunks, one pass at a time, the
// memory is that of one chunk whatever the fleet.

/** Jobs per bulk add: one Redis round trip each, a few hundred kilobytes in flight. */
export const ENQUEUE_CHUNK = 500;

/** `items` in consecutive slices of at most `size` (the last may be shorter). */
export function* chunksOf<T>(items: readonly T[], size: number): Generator<readonly T[]> {
  if (!(size >= 1)) throw new RangeError(`chunk size ${size}`);
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/**
 * `run` at most once at a time. A call while it runs is not started beside it: the latest such
 * call's argument runs once the current run ends (calls in between coalesce into it), and every
 * caller's promise settles when the run that covers it has ended.
 */
export function singleFlight<A>(run: (arg: A) => Promise<void>): (arg: A) => Promise<void> {
  let running = false;
  let next: { arg: A; readonly settle: () => void; readonly promise: Promise<void> } | undefined;
  const start = (arg: A): Promise<void> => {
    running = true;
    return run(arg).finally(() => {
      // The queued run starts here, in the same turn: no caller can slip a second run in between.
      running = false;
      const queued = next;
      next = undefined;
      if (queued !== undefined) void start(queued.arg).then(queued.settle, queued.settle);
    });
  };
  return arg => {
    if (!running) return start(arg);
    if (next === undefined) {
      let settle = (): void => undefined;
      const promise = new Promise<void>(resolve => {
        settle = resolve;
      });
      next = { arg, settle, promise };
    } else {
      next.arg = arg;
    }
    return next.promise;
  };
}
