// `stampede inventory-server`: the reference inventory for the worker's InventoryReview
// (docs/inventory-review.md), for tests, the demo and as a model for a real one. It vouches for the
// SANs a static file lists per node and refuses every other, re-reading the file on each review so
// an edit takes effect at once. HTTPS only; an optional bearer token.
//
//   nodes:
//     node-a: [node-a.example.com, 10.0.0.1]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  INVENTORY_API_VERSION,
  INVENTORY_REVIEW_KIND,
  normaliseDnsName,
  parseIp,
} from '@stampede/policy';

const MAX_REVIEW_BYTES = 64 * 1024;

const fileSchema = z.strictObject({
  nodes: z.record(z.string(), z.array(z.string())).default({}),
});

const reviewSchema = z.object({
  apiVersion: z.literal(INVENTORY_API_VERSION),
  kind: z.literal(INVENTORY_REVIEW_KIND),
  request: z.object({
    uid: z.string(),
    node: z.string(),
    sans: z.array(z.object({ type: z.enum(['DNS', 'IP']), value: z.string() })).max(1024),
  }),
});

export interface InventoryServerOptions {
  /** The YAML or JSON file listing each node's SANs. */
  readonly file: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly host?: string;
  /** 0: any free port. */
  readonly port?: number;
  /** When set, a review without `Authorization: Bearer <token>` gets 401. */
  readonly token?: string;
}

export interface InventoryServer {
  readonly url: string;
  close(): Promise<void>;
}

/** `DNS:x` / `IP:y` in canonical form, the way the file's entries and the review's SANs compare. */
function canonical(type: 'DNS' | 'IP', value: string): string {
  if (type === 'DNS') return `DNS:${normaliseDnsName(value)}`;
  return `IP:${parseIp(value)?.text ?? value}`;
}

const entryKey = (entry: string): string =>
  parseIp(entry) === undefined ? canonical('DNS', entry) : canonical('IP', entry);

/** The answer to one review body, given the file's text. Exported for the unit test. */
export function answerReview(
  reviewBody: string,
  fileText: string,
): { status: number; body: string } {
  let review: z.output<typeof reviewSchema>;
  try {
    review = reviewSchema.parse(JSON.parse(reviewBody));
  } catch {
    return { status: 400, body: JSON.stringify({ error: 'not an InventoryReview' }) };
  }
  // Failsafe: every scalar a string, so a node named 0123 or 1e3 stays that name instead of
  // becoming the number 123 or 1000 and vouching for another node.
  const nodes = fileSchema.parse(parseYaml(fileText, { schema: 'failsafe' }) ?? {}).nodes;
  // Own keys only: a node named `constructor` or `__proto__` is not found on Object's prototype.
  const listed = Object.hasOwn(nodes, review.request.node)
    ? (nodes[review.request.node] ?? [])
    : [];
  const known = new Set(listed.map(entryKey));
  const sans = review.request.sans.map(({ type, value }) =>
    known.has(canonical(type, value))
      ? { type, value, vouched: true }
      : { type, value, vouched: false, reason: `not in the inventory for ${review.request.node}` },
  );
  return {
    status: 200,
    body: JSON.stringify({
      apiVersion: INVENTORY_API_VERSION,
      kind: INVENTORY_REVIEW_KIND,
      response: { uid: review.request.uid, sans },
    }),
  };
}

function handle(options: InventoryServerOptions, req: IncomingMessage, res: ServerResponse): void {
  const reply = (status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  };
  if (req.method !== 'POST') {
    reply(405, '{"error":"POST an InventoryReview"}');
    return;
  }
  if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
    reply(401, '{"error":"unauthorized"}');
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_REVIEW_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_REVIEW_BYTES) {
      reply(413, '{"error":"review too large"}');
      return;
    }
    try {
      const answer = answerReview(
        Buffer.concat(chunks).toString('utf8'),
        readFileSync(options.file, 'utf8'),
      );
      reply(answer.status, answer.body);
    } catch (error) {
      reply(500, JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    }
  });
}

export async function startInventoryServer(
  options: InventoryServerOptions,
): Promise<InventoryServer> {
  const server: Server = createServer(
    { cert: options.certPem, key: options.keyPem },
    (req, res) => {
      handle(options, req, res);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `https://${host}:${String(port)}/review`,
    close: () =>
      new Promise(resolve => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
