// A small JSON-over-HTTPS Kubernetes client: one keep-alive https.Agent per identity, so a
// hundred simulated nodes cost a hundred TLS sessions, not one per request. Deliberately
// lower-level than @kubernetes/client-node: tests see raw status codes (403, 409, 429) and bodies.
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

export interface KubeCredentials {
  /** e.g. https://127.0.0.1:6443 */
  readonly server: string;
  /** The CA that signed the apiserver's serving certificate. */
  readonly caPem: string;
  /** Client certificate authentication. */
  readonly certPem?: string;
  readonly keyPem?: string;
  /** Bearer token authentication (ServiceAccount tokens). */
  readonly token?: string;
  /** Extra headers on every request, e.g. Impersonate-User. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface KubeResponse<T> {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: T;
}

export interface KubeStatus {
  readonly kind?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly code?: number;
}

export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, body: unknown) {
    const s = (body ?? {}) as KubeStatus;
    super(
      `${method} ${path}: HTTP ${status}${s.reason ? ` ${s.reason}` : ''}${s.message ? `: ${s.message}` : ''}`,
    );
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = s.reason;
    this.body = body;
  }
}

export interface WatchEvent<T = unknown> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: T;
}

export interface RequestOptions {
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export const MERGE_PATCH = 'application/merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

export class KubeClient {
  readonly credentials: KubeCredentials;
  readonly #agent: Agent;
  readonly #url: URL;

  constructor(credentials: KubeCredentials, { maxSockets = 32 } = {}) {
    this.credentials = credentials;
    this.#url = new URL(credentials.server);
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets,
      ca: credentials.caPem,
      ...(credentials.certPem !== undefined ? { cert: credentials.certPem } : {}),
      ...(credentials.keyPem !== undefined ? { key: credentials.keyPem } : {}),
    });
  }

  #open(
    method: string,
    path: string,
    options: RequestOptions,
    body?: string,
  ): Promise<IncomingMessage> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...this.credentials.headers,
      ...options.headers,
    };
    if (this.credentials.token !== undefined)
      headers['authorization'] = `Bearer ${this.credentials.token}`;
    if (body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: this.#url.hostname,
          port: this.#url.port,
          path,
          method,
          headers,
          agent: this.#agent,
          ...(options.signal !== undefined ? { signal: options.signal } : {}),
        },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Any request; never throws for an HTTP status. Non-JSON bodies come back as strings. */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<KubeResponse<T>> {
    const text =
      body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await this.#open(method, path, options, text);
    const raw = await readAll(res);
    let parsed: unknown = raw;
    if ((res.headers['content-type'] ?? '').includes('json') && raw !== '')
      parsed = JSON.parse(raw);
    return { status: res.statusCode ?? 0, headers: res.headers, body: parsed as T };
  }

  async #ok<T>(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    const res = await this.request<T>(method, path, body, options);
    if (res.status >= 400) throw new KubeApiError(method, path, res.status, res.body);
    return res.body;
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.#ok('GET', path);
  }

  post<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.#ok('POST', path, body);
  }

  put<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.#ok('PUT', path, body);
  }

  patch<T = unknown>(path: string, body: unknown, contentType = MERGE_PATCH): Promise<T> {
    return this.#ok('PATCH', path, body, { contentType });
  }

  delete<T = unknown>(path: string): Promise<T> {
    return this.#ok('DELETE', path);
  }

  /**
   * Streams watch events for a collection path (which may already carry a query, e.g. a
   * fieldSelector). Ends when the server closes the watch or `signal` aborts; an HTTP error
   * throws KubeApiError (e.g. 410 Gone for a too-old resourceVersion).
   */
  async *watch<T = unknown>(
    path: string,
    { resourceVersion, signal }: { resourceVersion?: string; signal?: AbortSignal } = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const res = await this.#open(
      'GET',
      watchPath(path, resourceVersion),
      signal !== undefined ? { signal } : {},
    ).catch((error: unknown) => {
      if (signal?.aborted === true) return undefined;
      throw error;
    });
    if (res === undefined) return;
    if ((res.statusCode ?? 0) >= 400) {
      throw new KubeApiError('WATCH', path, res.statusCode ?? 0, safeJson(await readAll(res)));
    }
    try {
      for await (const line of lines(res)) yield JSON.parse(line) as WatchEvent<T>;
    } catch (error) {
      if (signal?.aborted !== true) throw error;
    } finally {
      res.destroy();
    }
  }

  /** Closes pooled connections. */
  close(): void {
    this.#agent.destroy();
  }
}

function watchPath(path: string, resourceVersion: string | undefined): string {
  const query = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true' });
  if (resourceVersion !== undefined) query.set('resourceVersion', resourceVersion);
  return `${path}${path.includes('?') ? '&' : '?'}${query.toString()}`;
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Non-empty lines of a stream (watch responses are newline-delimited JSON). */
async function* lines(res: IncomingMessage): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of res) {
    pending += (chunk as Buffer).toString('utf8');
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== '') yield line;
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
