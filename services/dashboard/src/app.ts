// Bull Board over the approval queue, behind basic auth, read-only by default. Read-only is enforced
// twice: Bull Board's readOnlyMode (405 on its write routes) and a method guard in front of it, so a
// write route added by a Bull Board upgrade is refused too. Hiding buttons is not the control.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { parseCsrJob } from '@stampede/contracts';

export interface DashboardOptions {
  readonly queue: Queue;
  readonly readOnly: boolean;
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
  readonly jaegerUiUrl: string | undefined;
}

export const BOARD_PATH = '/';

/** The trace id a job carries (packages/contracts), or undefined. */
export function traceIdOf(data: unknown): string | undefined {
  const parsed = parseCsrJob(data);
  return parsed.ok ? parsed.job.trace?.traceparent.split('-')[1] : undefined;
}

export function createDashboardApp(options: DashboardOptions): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    c.header('x-frame-options', 'DENY');
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
  });
  if (options.credentials !== undefined) {
    app.use(
      '*',
      basicAuth({
        username: options.credentials.username,
        password: options.credentials.password,
        realm: 'stampede',
      }),
    );
  }
  if (options.readOnly) {
    app.use('*', async (c, next) => {
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
        return c.json({ error: 'the dashboard is read-only' }, 405);
      }
      await next();
      return undefined;
    });
  }
  const jaeger = options.jaegerUiUrl;
  const adapter = new BullMQAdapter(options.queue, {
    readOnlyMode: options.readOnly,
    allowRetries: !options.readOnly,
    description: 'kubelet-serving CSRs waiting for a decision',
    ...(jaeger === undefined
      ? {}
      : {
          externalJobUrl: job => {
            const traceId = traceIdOf(job.data);
            return traceId === undefined
              ? { href: `${jaeger}/search?service=stampede-worker`, displayText: 'Jaeger' }
              : { href: `${jaeger}/trace/${traceId}`, displayText: `trace ${traceId.slice(0, 8)}` };
          },
        }),
  });
  const server = new HonoAdapter(serveStatic).setBasePath(BOARD_PATH);
  createBullBoard({
    queues: [adapter],
    serverAdapter: server,
    options: { uiConfig: { boardTitle: 'stampede' } },
  });
  app.route(BOARD_PATH, server.registerPlugin());
  return app;
}
