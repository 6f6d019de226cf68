// /healthz (liveness) and /readyz (readiness) on a small HTTP server. Each check returns whether it
// passes and why not; the body lists every check so `curl` explains a failing probe.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CheckResult {
  readonly ok: boolean;
  readonly detail?: string;
}

export type HealthCheck = () => CheckResult;

export interface HealthServerOptions {
  readonly port: number;
  readonly host?: string;
  /** Liveness: failing means "restart me". Keep these to states the process cannot leave alone. */
  readonly live: Readonly<Record<string, HealthCheck>>;
  /** Readiness: failing means "do not count on me yet" (not synced, Redis unreachable). */
  readonly ready: Readonly<Record<string, HealthCheck>>;
  /** Serves GET /metrics (Prometheus text) when given. */
  readonly metrics?: () => Promise<{ readonly contentType: string; readonly body: string }>;
}

export interface HealthServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /**
   * Serves these checks from now on. A service starts its server before it waits for its
   * dependencies (alive, not ready) and hands over its real checks once it runs.
   */
  use(checks: Pick<HealthServerOptions, 'live' | 'ready'>): void;
  close(): Promise<void>;
}

function run(checks: Readonly<Record<string, HealthCheck>>): { ok: boolean; body: string } {
  const results = Object.entries(checks).map(([name, check]) => {
    try {
      return [name, check()] as const;
    } catch (error) {
      return [
        name,
        { ok: false, detail: error instanceof Error ? error.message : 'threw' },
      ] as const;
    }
  });
  const ok = results.every(([, result]) => result.ok);
  const lines = results.map(
    ([name, result]) =>
      `${result.ok ? '[+]' : '[-]'} ${name}${result.detail === undefined ? '' : `: ${result.detail}`}`,
  );
  return { ok, body: `${lines.join('\n')}\n${ok ? 'ok' : 'failed'}\n` };
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  let current: Pick<HealthServerOptions, 'live' | 'ready'> = options;
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics' && request.method === 'GET' && options.metrics !== undefined) {
      options.metrics().then(
        ({ contentType, body }) => {
          response.writeHead(200, { 'content-type': contentType }).end(body);
        },
        (error: unknown) => {
          const detail = error instanceof Error ? error.message : 'failed';
          response.writeHead(500, { 'content-type': 'text/plain' }).end(`${detail}\n`);
        },
      );
      return;
    }
    const checks =
      path === '/healthz' || path === '/livez'
        ? current.live
        : path === '/readyz'
          ? current.ready
          : undefined;
    if (checks === undefined || request.method !== 'GET') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const { ok, body } = run(checks);
    response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(body);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    use: checks => {
      current = checks;
    },
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
