// One pooled, keep-alive connection set to the API server, with TLS and credentials from the
// kubeconfig. client-node's generated API builds a new undici Agent (so a new TLS connection) for
// every call; this transport keeps one Agent per process and swaps it only when TLS material changes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import { Agent, buildConnector } from 'undici';
import type { Dispatcher } from 'undici';
import type { KubeConfig } from '@kubernetes/client-node';
import { classifyFailure, classifyStatus } from './classify.ts';
import { KubeApiError, RetryableError } from './errors.ts';
import type { KubeClientStats, KubeLogger, RequestObservation } from './types.ts';

export interface TransportOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: KubeLogger;
  readonly requestTimeoutMs: number;
  readonly maxConnections: number;
  readonly allowH2: boolean;
  readonly credentialRefreshMs: number;
  readonly userAgent: string;
  readonly onRequest?: ((observation: RequestObservation) => void) | undefined;
}

const VERBS = { GET: 'get', POST: 'create', PUT: 'update' } as const;

/** A collection's path ends in its resource; an object's ends in its name (which may be "nodes"). */
const COLLECTION =
  /\/v1\/(certificatesigningrequests|nodes|servicecidrs)$|\/v1\/namespaces\/[^/]+\/events$/;

export function verbOf(input: Pick<RequestInput, 'method' | 'path'>): RequestObservation['verb'] {
  // A GET on a collection is a list. The query is left out: GETs of one object carry one too
  // (resourceVersion), and a name ending in "nodes" must not look like the collection.
  const [bare = ''] = input.path.split('?');
  if (input.method === 'GET' && COLLECTION.test(bare)) return 'list';
  return VERBS[input.method];
}

function codeOf(error: unknown): string {
  return error instanceof KubeApiError && error.status !== undefined
    ? String(error.status)
    : 'error';
}

/** The status of the last response a request got (a retry overwrites it); none on a network error. */
interface ResponseSeen {
  status: number | undefined;
}

export interface RequestInput {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly body?: unknown;
  readonly signal?: AbortSignal | undefined;
}

export interface StreamInput {
  readonly path: string;
  readonly signal: AbortSignal;
  /** Inactivity limit on the body; the server-side timeoutSeconds should end the stream first. */
  readonly bodyTimeoutMs: number;
}

interface Credentials {
  readonly tls: {
    readonly ca?: Buffer;
    readonly cert?: Buffer;
    readonly key?: Buffer;
    readonly servername?: string;
    readonly rejectUnauthorized?: boolean;
  };
  /** Hash of the TLS material: a change means a new Agent. */
  readonly tlsFingerprint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly readAtMs: number;
}

interface Counters {
  requests: number;
  watches: number;
  connections: number;
  tlsHandshakes: number;
  openSockets: number;
  errors: Record<string, number>;
}

const pick = (value: unknown): Buffer | undefined => (Buffer.isBuffer(value) ? value : undefined);

function requestHeaders(
  kc: KubeConfig,
  opts: RequestOptions,
  userAgent: string,
): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': userAgent };
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    if (typeof value === 'string') headers[name.toLowerCase()] = value.trim();
  }
  if (typeof opts.auth === 'string') {
    headers['authorization'] = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  }
  // The in-cluster token is a projected, rotating file. client-node caches it for 60 s on its own
  // clock; reading it here makes a forced refresh (after a 401) effective at once.
  const provider = kc.getCurrentUser()?.authProvider as
    { config?: { tokenFile?: unknown } } | undefined;
  const tokenFile = provider?.config?.tokenFile;
  if (typeof tokenFile === 'string') {
    headers['authorization'] = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
  }
  return headers;
}

function tlsOptions(opts: RequestOptions): Credentials['tls'] {
  const ca = pick(opts.ca);
  const cert = pick(opts.cert);
  const key = pick(opts.key);
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(typeof opts.servername === 'string' ? { servername: opts.servername } : {}),
    ...(opts.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  };
}

/** Reads credentials through client-node (every auth provider), plus the token file directly. */
async function readCredentials(kc: KubeConfig, userAgent: string): Promise<Credentials> {
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const tls = tlsOptions(opts);
  const hash = createHash('sha256');
  for (const part of [tls.ca, tls.cert, tls.key]) hash.update(part ?? '').update('\0');
  hash.update(`${tls.servername ?? ''}\0${String(tls.rejectUnauthorized ?? true)}`);
  return {
    tls,
    tlsFingerprint: hash.digest('hex'),
    headers: requestHeaders(kc, opts, userAgent),
    readAtMs: Date.now(),
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Parses a response body once. An unreadable body is not JSON: the caller sees undefined. */
function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Errors worth one immediate retry: a keep-alive socket the server had already closed. */
function isStaleSocket(error: KubeApiError): boolean {
  if (!(error instanceof RetryableError) || error.kind !== 'network') return false;
  return /UND_ERR_SOCKET|ECONNRESET|EPIPE/.test(error.message);
}

export class Transport {
  readonly #options: TransportOptions;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #counters: Counters = {
    requests: 0,
    watches: 0,
    connections: 0,
    tlsHandshakes: 0,
    openSockets: 0,
    errors: {},
  };
  #credentials: Credentials;
  #agent: Agent;
  /** Watches get their own pool: never let a unary request queue behind an endless watch body. */
  #watchAgent: Agent;
  #refreshing: Promise<void> | undefined;
  #closed = false;

  private constructor(options: TransportOptions, credentials: Credentials) {
    this.#options = options;
    const server = options.kubeConfig.getCurrentCluster()?.server;
    if (server === undefined) throw new Error('kubeconfig: no current cluster');
    const url = new URL(server);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new Error(`kubeconfig: unsupported server URL ${server}`);
    }
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#credentials = credentials;
    this.#agent = this.#newAgent(credentials, 2);
    this.#watchAgent = this.#newAgent(credentials, 1);
  }

  static async create(options: TransportOptions): Promise<Transport> {
    return new Transport(options, await readCredentials(options.kubeConfig, options.userAgent));
  }

  #newAgent(credentials: Credentials, pipelining: number): Agent {
    const { allowH2 } = this.#options;
    const base = buildConnector({
      ...credentials.tls,
      allowH2,
      keepAlive: true,
      keepAliveInitialDelay: 30_000,
      timeout: this.#options.requestTimeoutMs,
    });
    const counters = this.#counters;
    const connect: buildConnector.connector = (opts, callback) => {
      counters.connections++;
      base(opts, (...args) => {
        // On failure undici calls back with the error alone: the socket is undefined, not null.
        const socket = args[1] as Socket | null | undefined;
        if (args[0] === null && socket !== null && socket !== undefined) {
          // The connector calls back after `secureConnect` on https.
          if (opts.protocol === 'https:') counters.tlsHandshakes++;
          counters.openSockets++;
          socket.once('close', () => counters.openSockets--);
        }
        callback(...args);
      });
    };
    return new Agent({
      connect,
      allowH2,
      connections: this.#options.maxConnections,
      // Go's server sends no Keep-Alive hint; undici's 4 s default would close idle sockets
      // between jobs. 30 s stays below common idle timeouts of API servers and load balancers.
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      // With pipelining 1, undici's pool marks a client busy until a 'drain' event that arrives
      // after the caller has already read the body, so back-to-back calls open a second
      // connection (2 per 1,000 sequential calls, 2× the concurrency under load; measured). With 2,
      // a request waits for the previous response's headers (blocking) and reuses the socket.
      pipelining,
    });
  }

  stats(): KubeClientStats {
    const c = this.#counters;
    return { ...c, errors: { ...c.errors } };
  }

  countError(error: unknown): void {
    const name = error instanceof KubeApiError ? error.name : 'Aborted';
    this.#counters.errors[name] = (this.#counters.errors[name] ?? 0) + 1;
  }

  /** Re-reads credentials when stale (or forced); swaps the Agent if TLS material changed. */
  async #freshCredentials(force: boolean): Promise<Credentials> {
    const age = Date.now() - this.#credentials.readAtMs;
    if (!force && age < this.#options.credentialRefreshMs) return this.#credentials;
    this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = undefined));
    await this.#refreshing;
    return this.#credentials;
  }

  async #refresh(): Promise<void> {
    let next: Credentials;
    try {
      next = await readCredentials(this.#options.kubeConfig, this.#options.userAgent);
    } catch (error) {
      // Keep the last good credentials; a half-written token file must not stop the worker.
      this.#options.logger.warn({ err: error }, 'kube: re-reading credentials failed');
      this.#credentials = { ...this.#credentials, readAtMs: Date.now() };
      return;
    }
    if (next.tlsFingerprint !== this.#credentials.tlsFingerprint && !this.#closed) {
      this.#options.logger.info({}, 'kube: TLS material changed; new connection pool');
      const old = [this.#agent, this.#watchAgent];
      this.#agent = this.#newAgent(next, 2);
      this.#watchAgent = this.#newAgent(next, 1);
      // Open watches on the old pool end at their server timeout and reconnect on the new one.
      Promise.all(old.map(agent => agent.close())).catch((error: unknown) => {
        this.#options.logger.warn({ err: error }, 'kube: closing the old connection pool failed');
      });
    }
    this.#credentials = next;
  }

  /** A unary JSON request. Resolves to the parsed body of a 2xx; rejects with a KubeApiError. */
  async request(input: RequestInput): Promise<unknown> {
    const observe = this.#options.onRequest;
    if (observe === undefined) return this.#request(input);
    const started = performance.now();
    let code = '2xx';
    const seen: ResponseSeen = { status: undefined };
    try {
      return await this.#request(input, seen);
    } catch (error) {
      code = codeOf(error);
      throw error;
    } finally {
      observe({
        verb: verbOf(input),
        code,
        durationMs: performance.now() - started,
        method: input.method,
        origin: this.#origin,
        status: seen.status,
        startedAtMs: performance.timeOrigin + started,
      });
    }
  }

  async #request(input: RequestInput, seen?: ResponseSeen): Promise<unknown> {
    this.#counters.requests++;
    try {
      return await this.#attempt(input, false, seen);
    } catch (error) {
      if (input.signal?.aborted === true) throw input.signal.reason;
      if (error instanceof KubeApiError && (error.status === 401 || isStaleSocket(error))) {
        // One immediate retry: a rotated token (401) or a keep-alive socket closed by the server.
        // Every request this package sends is safe to replay (reads, reviews, conditional writes).
        try {
          return await this.#attempt(input, error.status === 401, seen);
        } catch (retryError) {
          this.countError(retryError);
          throw retryError;
        }
      }
      this.countError(error);
      throw error;
    }
  }

  async #attempt(
    input: RequestInput,
    forceCredentials: boolean,
    seen?: ResponseSeen,
  ): Promise<unknown> {
    const credentials = await this.#freshCredentials(forceCredentials);
    const path = this.#basePath + input.path;
    const timeout = this.#options.requestTimeoutMs;
    const hasBody = input.body !== undefined;
    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await this.#agent.request({
        origin: this.#origin,
        path,
        method: input.method,
        headers: hasBody
          ? { ...credentials.headers, 'content-type': 'application/json' }
          : credentials.headers,
        ...(hasBody ? { body: JSON.stringify(input.body) } : {}),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: input.signal ?? null,
      });
      text = await response.body.text();
    } catch (error) {
      if (input.signal?.aborted === true) throw input.signal.reason;
      throw classifyFailure({ method: input.method, path: input.path, error });
    }
    const body = parseJson(text);
    const status = response.statusCode;
    if (seen !== undefined) seen.status = status;
    if (status >= 200 && status < 300) {
      if (body === undefined) {
        throw new RetryableError({
          method: input.method,
          path: input.path,
          status,
          kind: 'server',
          message: `${input.method} ${input.path}: HTTP ${status} with a body that is not JSON`,
        });
      }
      return body;
    }
    throw classifyStatus({
      method: input.method,
      path: input.path,
      status,
      body,
      retryAfter: headerValue(response.headers['retry-after']),
      nowMs: Date.now(),
    });
  }

  /**
   * Opens a streaming GET (a watch). Resolves once the server answered 200, with the body as a UTF-8
   * text stream; rejects with a KubeApiError (GoneError on 410) or the abort reason.
   */
  async stream(input: StreamInput): Promise<AsyncIterable<string>> {
    this.#counters.watches++;
    const credentials = await this.#freshCredentials(false);
    const method = 'GET';
    const started = performance.now();
    // A watch that opened is no request with a duration; one refused (a 403 after an RBAC change,
    // a 429) is an error the request-error alert must see, like any other call's.
    const refused = (failure: KubeApiError, status: number | undefined): KubeApiError => {
      this.countError(failure);
      this.#options.onRequest?.({
        verb: 'watch',
        code: codeOf(failure),
        durationMs: performance.now() - started,
        method,
        origin: this.#origin,
        status,
        startedAtMs: performance.timeOrigin + started,
      });
      return failure;
    };
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#watchAgent.request({
        origin: this.#origin,
        path: this.#basePath + input.path,
        method,
        headers: credentials.headers,
        headersTimeout: this.#options.requestTimeoutMs,
        bodyTimeout: input.bodyTimeoutMs,
        signal: input.signal,
      });
    } catch (error) {
      if (input.signal.aborted) throw input.signal.reason;
      throw refused(classifyFailure({ method, path: input.path, error }), undefined);
    }
    if (response.statusCode !== 200) {
      const body = parseJson(await response.body.text().catch(() => ''));
      const failure = classifyStatus({
        method,
        path: input.path,
        status: response.statusCode,
        body,
        retryAfter: headerValue(response.headers['retry-after']),
        nowMs: Date.now(),
      });
      throw refused(failure, response.statusCode);
    }
    response.body.setEncoding('utf8');
    return response.body as AsyncIterable<string>;
  }

  /** Closes the pools: in-flight unary requests finish; after `graceMs` everything is destroyed. */
  async close(graceMs = 5_000): Promise<void> {
    this.#closed = true;
    await this.#watchAgent.destroy();
    const agent = this.#agent;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>(resolve => {
      timer = setTimeout(() => {
        resolve('timeout');
      }, graceMs);
    });
    const outcome = await Promise.race([agent.close().then(() => 'closed' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') await agent.destroy();
  }
}
