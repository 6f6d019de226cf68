// A resilient list/watch loop (a reflector with a store of projections). client-node's informer
// stops on any error other than 410 and does not request bookmarks; this loop never stops until its
// signal aborts: 410 → relist, anything else (error or stream end) → backoff with jitter, restart.
import { classifyFailure, classifyStatus } from './classify.ts';
import { GoneError, KubeApiError, RetryableError } from './errors.ts';
import type { Transport } from './transport.ts';
import type {
  KubeLogger,
  ListWatch,
  ListWatchOptions,
  ListWatchStats,
  StoreChange,
} from './types.ts';

interface KubeObject {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string };
}

interface ListPage<T> {
  readonly items?: T[];
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
}

interface WatchEvent {
  readonly type?: string;
  readonly object?: unknown;
}

export interface ListWatchTarget {
  /** e.g. `/apis/certificates.k8s.io/v1/certificatesigningrequests`. */
  readonly path: string;
  /** For logs: `csr`, `node`. */
  readonly resource: string;
  /** Selector the target always applies (the CSR signer). */
  readonly fieldSelector?: string;
}

interface Entry<P> {
  readonly value: P;
  readonly resourceVersion: string;
}

/** A stream ended normally after at least this long counts as healthy: backoff resets. */
const HEALTHY_STREAM_MS = 10_000;

/**
 * Silence on a watch longer than this is a stall: the API server's bookmarks come about every
 * 60 s. Without it a stalled stream lasted until the body timeout past the server-side timeout,
 * 300-360 s, and nothing new was queued meanwhile.
 */
export const WATCH_IDLE_TIMEOUT_MS = 90_000;

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Full-range exponential backoff with "equal jitter": half fixed, half random. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

function selector(...parts: (string | undefined)[]): string | undefined {
  const kept = parts.filter((p): p is string => p !== undefined && p !== '');
  return kept.length === 0 ? undefined : kept.join(',');
}

class Reflector<T extends KubeObject, P> implements ListWatch<P> {
  readonly done: Promise<void>;
  readonly #entries = new Map<string, Entry<P>>();
  readonly #values = new Map<string, P>();
  readonly #transport: Transport;
  readonly #target: ListWatchTarget;
  readonly #options: ListWatchOptions<T, P>;
  readonly #logger: KubeLogger;
  readonly #synced = Promise.withResolvers<undefined>();
  readonly #fieldSelector: string | undefined;
  #stats: {
    -readonly [K in keyof ListWatchStats]: ListWatchStats[K];
  } = {
    synced: false,
    connected: false,
    restarts: 0,
    lists: 0,
    expired: 0,
    events: 0,
    bookmarks: 0,
    resourceVersion: '',
    lastActivityAtMs: 0,
  };

  constructor(
    transport: Transport,
    target: ListWatchTarget,
    options: ListWatchOptions<T, P>,
    logger: KubeLogger,
  ) {
    this.#transport = transport;
    this.#target = target;
    this.#options = options;
    this.#logger = logger;
    this.#fieldSelector = selector(target.fieldSelector, options.fieldSelector);
    // Nobody has to call synced(); an abort before the first sync must not be an unhandled rejection.
    this.#synced.promise.catch(() => undefined);
    this.done = this.#run().catch((error: unknown) => {
      // Unreachable by construction; kept so that `done` never rejects.
      this.#logger.error(
        { err: error, resource: target.resource },
        'kube: list/watch loop crashed',
      );
    });
  }

  get store(): ReadonlyMap<string, P> {
    return this.#values;
  }

  stats(): ListWatchStats {
    return { ...this.#stats };
  }

  async synced(): Promise<void> {
    await this.#synced.promise;
  }

  async #run(): Promise<void> {
    const { signal } = this.#options;
    const initialMs = this.#options.backoff?.initialMs ?? 500;
    const maxMs = this.#options.backoff?.maxMs ?? 30_000;
    // A function, not a property read: TypeScript would narrow `signal.aborted` across awaits.
    const stopped = (): boolean => signal.aborted;
    let needList = true;
    let attempt = 0;
    while (!stopped()) {
      try {
        if (needList) {
          await this.#list();
          needList = false;
        }
        const healthy = await this.#watch();
        attempt = healthy ? 0 : attempt + 1;
      } catch (error) {
        if (stopped()) break;
        if (error instanceof GoneError) {
          // The resourceVersion fell out of the watch window: the store may have missed deletes.
          this.#stats.expired++;
          needList = true;
        } else {
          attempt++;
        }
        this.#report(error, attempt);
      }
      this.#stats.connected = false;
      if (stopped()) break;
      this.#stats.restarts++;
      await delay(backoffDelay(attempt, initialMs, maxMs), signal);
    }
    this.#stats.connected = false;
    this.#synced.reject(signal.reason);
  }

  #report(error: unknown, attempt: number): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#stats.lastError = message;
    this.#stats.lastErrorStatus = error instanceof KubeApiError ? error.status : undefined;
    const fields = {
      resource: this.#target.resource,
      attempt,
      errorClass: error instanceof KubeApiError ? error.name : 'Error',
      err: message,
      resourceVersion: this.#stats.resourceVersion,
    };
    if (error instanceof GoneError) this.#logger.info(fields, 'kube: watch expired; relisting');
    else this.#logger.warn(fields, 'kube: list/watch failed; restarting with backoff');
  }

  #query(params: Record<string, string | undefined>): string {
    const search = new URLSearchParams();
    const labelSelector = this.#options.labelSelector;
    if (this.#fieldSelector !== undefined) search.set('fieldSelector', this.#fieldSelector);
    if (labelSelector !== undefined && labelSelector !== '') {
      search.set('labelSelector', labelSelector);
    }
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) search.set(key, value);
    }
    return `${this.#target.path}?${search.toString()}`;
  }

  /** LIST every page (a consistent read), then replace the store and emit the differences. */
  async #list(): Promise<void> {
    const { signal } = this.#options;
    const limit = String(this.#options.pageSize ?? 500);
    const fresh = new Map<string, Entry<P>>();
    let token: string | undefined;
    let resourceVersion = '';
    do {
      const page = (await this.#transport.request({
        method: 'GET',
        path: this.#query({ limit, continue: token }),
        signal,
      })) as ListPage<T>;
      for (const object of page.items ?? []) this.#keep(fresh, object);
      token = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (token !== undefined);
    this.#replace(fresh);
    this.#stats.resourceVersion = resourceVersion;
    this.#stats.lists++;
    this.#stats.lastActivityAtMs = Date.now();
    this.#stats.synced = true;
    this.#synced.resolve(undefined);
    this.#call(() => this.#options.onSynced?.());
    this.#progress();
  }

  #keep(into: Map<string, Entry<P>>, object: T): void {
    const name = object.metadata?.name;
    if (name === undefined) return;
    const value = this.#options.project(object);
    if (value === undefined) return;
    into.set(name, { value, resourceVersion: object.metadata?.resourceVersion ?? '' });
  }

  #replace(fresh: Map<string, Entry<P>>): void {
    const changes: StoreChange<P>[] = [];
    for (const [key, old] of this.#entries) {
      if (!fresh.has(key))
        changes.push({ type: 'deleted', key, value: old.value, previous: old.value });
    }
    for (const [key, entry] of fresh) {
      const old = this.#entries.get(key);
      if (old === undefined) changes.push({ type: 'added', key, value: entry.value });
      else if (old.resourceVersion !== entry.resourceVersion) {
        changes.push({ type: 'updated', key, value: entry.value, previous: old.value });
      }
    }
    this.#entries.clear();
    this.#values.clear();
    for (const [key, entry] of fresh) {
      this.#entries.set(key, entry);
      this.#values.set(key, entry.value);
    }
    for (const change of changes) this.#emit(change);
  }

  #emit(change: StoreChange<P>): void {
    this.#call(() => this.#options.onChange?.(change));
  }

  #call(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#logger.error(
        { err: error, resource: this.#target.resource },
        'kube: a list/watch callback threw; ignored',
      );
    }
  }

  /**
   * One WATCH from the tracked resourceVersion, until the stream ends. Resolves true when the
   * stream was healthy (it delivered something or lasted a while); rejects on errors (GoneError on
   * 410).
   */
  async #watch(): Promise<boolean> {
    const { signal } = this.#options;
    const [low, high] = this.#options.watchTimeoutSeconds ?? [240, 300];
    const timeoutSeconds = Math.round(low + Math.random() * (high - low));
    const stream = await this.#transport.stream({
      path: this.#query({
        watch: '1',
        allowWatchBookmarks: 'true',
        resourceVersion: this.#stats.resourceVersion,
        timeoutSeconds: String(timeoutSeconds),
      }),
      signal,
      // undici's body timeout is the longest gap between chunks: the idle limit, not a deadline.
      bodyTimeoutMs: this.#options.idleTimeoutMs ?? WATCH_IDLE_TIMEOUT_MS,
    });
    const startedAt = Date.now();
    this.#stats.connected = true;
    this.#call(() => this.#options.onConnect?.());
    let delivered = false;
    let pending = '';
    try {
      for await (const chunk of stream) {
        pending += chunk;
        let newline = pending.indexOf('\n');
        while (newline !== -1) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (line.trim() !== '') {
            this.#apply(line);
            delivered = true;
          }
          newline = pending.indexOf('\n');
        }
      }
    } catch (error) {
      if (error instanceof KubeApiError || signal.aborted) throw error;
      // The connection broke mid-stream (reset, body timeout, API server gone).
      throw classifyFailure({ method: 'GET', path: this.#target.path, error });
    }
    if (pending.trim() !== '') this.#apply(pending);
    return delivered || Date.now() - startedAt >= HEALTHY_STREAM_MS;
  }

  #apply(line: string): void {
    let event: WatchEvent;
    try {
      event = JSON.parse(line) as WatchEvent;
    } catch (error) {
      throw new RetryableError({
        method: 'GET',
        path: this.#target.path,
        kind: 'server',
        message: `watch ${this.#target.resource}: a line is not JSON`,
        cause: error,
      });
    }
    const object = event.object as T | undefined;
    this.#stats.lastActivityAtMs = Date.now();
    switch (event.type ?? '') {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED':
        if (object !== undefined) this.#applyObject(event.type as 'ADDED', object);
        return;
      case 'BOOKMARK':
        this.#stats.bookmarks++;
        this.#track(object);
        this.#progress();
        return;
      case 'ERROR':
        throw this.#watchError(event.object);
      default:
        throw new RetryableError({
          method: 'GET',
          path: this.#target.path,
          kind: 'server',
          message: `watch ${this.#target.resource}: unknown event type ${String(event.type)}`,
        });
    }
  }

  /** The store now holds every change up to stats.resourceVersion: tell whoever waits for one. */
  #progress(): void {
    const rv = this.#stats.resourceVersion;
    if (rv !== '') this.#call(() => this.#options.onProgress?.(rv));
  }

  #track(object: KubeObject | undefined): void {
    const rv = object?.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '') this.#stats.resourceVersion = rv;
  }

  #watchError(status: unknown): KubeApiError {
    const code = (status as { code?: unknown } | undefined)?.code;
    return classifyStatus({
      method: 'GET',
      path: this.#target.path,
      // An ERROR event without a code is a server-side failure: restart the watch.
      status: typeof code === 'number' ? code : 500,
      body: status,
      nowMs: Date.now(),
    });
  }

  #applyObject(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void {
    this.#stats.events++;
    // The version moves on only once the change is stored: if projecting it throws, the watch
    // restarts from before it and the event comes again, instead of being skipped for good.
    this.#store(type, object);
    this.#track(object);
    this.#progress();
  }

  #store(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void {
    const key = object.metadata?.name;
    if (key === undefined) return;
    const old = this.#entries.get(key);
    const value = type === 'DELETED' ? undefined : this.#options.project(object);
    if (value === undefined) {
      if (old === undefined) return;
      this.#entries.delete(key);
      this.#values.delete(key);
      this.#emit({ type: 'deleted', key, value: old.value, previous: old.value });
      return;
    }
    this.#entries.set(key, { value, resourceVersion: object.metadata?.resourceVersion ?? '' });
    this.#values.set(key, value);
    this.#emit(
      old === undefined
        ? { type: 'added', key, value }
        : { type: 'updated', key, value, previous: old.value },
    );
  }
}

/** Starts a list/watch loop; it runs until `options.signal` aborts. */
export function startListWatch<T extends KubeObject, P>(input: {
  readonly transport: Transport;
  readonly target: ListWatchTarget;
  readonly options: ListWatchOptions<T, P>;
  readonly logger: KubeLogger;
}): ListWatch<P> {
  return new Reflector(input.transport, input.target, input.options, input.logger);
}
