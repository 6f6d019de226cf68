// The inventory fact (docs/adr/0022, docs/inventory-review.md): the worker POSTs an InventoryReview
// naming the node, the requester, the CSR and its SANs to the operator's HTTPS endpoint, and reads
// back which SANs the inventory vouches for. Anything but a well-formed answer for this very CSR —
// a network error, a timeout, a non-2xx status, a body too large or malformed, another uid — makes
// the fact `unavailable`, which the policy retries and never denies for.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import {
  INVENTORY_API_VERSION,
  INVENTORY_REVIEW_KIND,
  readInventoryAnswer,
  sanOfKey,
} from '@stampede/policy';
import type { Fact, InventoryAnswer, InventoryQuestion } from '@stampede/policy';

export type { InventoryQuestion };

const MAX_RESPONSE_BYTES = 64 * 1024;
/** A rotated token file is picked up within this long, without a read per CSR. */
const TOKEN_TTL_MS = 60_000;

export interface InventoryOptions {
  readonly url: URL;
  /** PEM bundle that signs the endpoint's certificate; undefined: the system's CAs. */
  readonly caPem?: string;
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  /** Sent as `Authorization: Bearer …`, re-read every minute. */
  readonly tokenFile?: string;
  readonly timeoutMs: number;
  readonly now?: () => number;
}

export interface Inventory {
  review(question: InventoryQuestion, signal: AbortSignal): Promise<Fact<InventoryAnswer>>;
}

export function createInventory(options: InventoryOptions): Inventory {
  const agent = new Agent({
    keepAlive: true,
    ...(options.caPem === undefined ? {} : { ca: options.caPem }),
    ...(options.clientCertPem === undefined ? {} : { cert: options.clientCertPem }),
    ...(options.clientKeyPem === undefined ? {} : { key: options.clientKeyPem }),
  });
  const now = options.now ?? Date.now;
  let token: { value: string; readAtMs: number } | undefined;
  const bearer = (): string | undefined => {
    if (options.tokenFile === undefined) return undefined;
    if (token === undefined || now() - token.readAtMs > TOKEN_TTL_MS) {
      const value = readFileSync(options.tokenFile, 'utf8').trim();
      // A token file emptied by a rotation is an unavailable inventory (retry), not a review
      // sent without credentials.
      if (value === '') throw new Error(`${options.tokenFile}: empty`);
      token = { value, readAtMs: now() };
    }
    return token.value;
  };

  return {
    async review(question, signal) {
      const body = JSON.stringify({
        apiVersion: INVENTORY_API_VERSION,
        kind: INVENTORY_REVIEW_KIND,
        request: {
          uid: question.csrUid,
          csrName: question.csrName,
          node: question.node,
          username: question.username,
          sans: question.sanKeys.map(sanOfKey),
        },
      });
      try {
        const token = bearer();
        const text = await post({ options, agent, body, signal, ...(token ? { token } : {}) });
        return readInventoryAnswer(text, question);
      } catch (error) {
        if (signal.aborted) throw error;
        const detail = error instanceof Error ? error.message : String(error);
        return { state: 'unavailable', reason: `inventory: ${detail.slice(0, 200)}` };
      }
    },
  };
}

/** POSTs `body`; resolves with the response text of a 2xx, rejects on anything else. */
function post(input: {
  readonly options: InventoryOptions;
  readonly agent: Agent;
  readonly body: string;
  readonly token?: string;
  readonly signal: AbortSignal;
}): Promise<string> {
  const { options, agent, body, token, signal: jobSignal } = input;
  const signal = AbortSignal.any([jobSignal, AbortSignal.timeout(options.timeoutMs)]);
  return new Promise((resolve, reject) => {
    const req = request(
      options.url,
      {
        method: 'POST',
        agent,
        signal,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
      },
      res => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(new Error(`answer larger than ${String(MAX_RESPONSE_BYTES)} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) reject(new Error(`HTTP ${String(status)}`));
          else resolve(Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', reject);
      },
    );
    req.on('error', (error: Error) => {
      reject(
        signal.aborted && !jobSignal.aborted
          ? new Error(`timed out after ${String(options.timeoutMs)} ms`)
          : error,
      );
    });
    req.end(body);
  });
}
