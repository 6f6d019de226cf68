// A loopback HTTPS proxy in front of the API server that forwards every request and, when told,
// keeps the answers to some of them from the client: the write is made, the caller never hears of
// it. A worker behind it can be stopped at an exact point of a job (its approval written, its
// Event not; or its Event written, its job not acknowledged) with no hook in the worker's code:
// the worker only gets a kubeconfig naming the proxy. Told the other way (`holdRequests`), it keeps
// the request itself from the API server until the test releases or drops it: the worker has
// decided and sent its write, the API server has not seen it, and the test may change the CSR
// (or kill the worker) in between. The proxy serves the API server's own
// certificate (its SANs include 127.0.0.1), so the worker checks it against the cluster CA as ever.
import { readFileSync } from 'node:fs';
import { Agent, createServer, request as httpsRequest } from 'node:https';
import type { Server } from 'node:https';
import type {
  ClientRequest,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ControlPlane } from '@stampede/harness';

/** What the proxy holds back: the answer to a matching request, once the API server gave it. */
export type Hold = (method: string, path: string) => boolean;

export const approvalWrites: Hold = (method, path) =>
  method === 'PUT' && /\/certificatesigningrequests\/[^/]+\/approval$/.test(path);

export const eventCreates: Hold = (method, path) =>
  method === 'POST' && /\/apis\/events\.k8s\.io\/v1\/namespaces\/[^/]+\/events$/.test(path);

/** One request kept from the API server, its body read whole; the client waits for its answer. */
export interface HeldRequest {
  readonly method: string;
  readonly path: string;
  /** Sends it on as it came, the API server's answer back to the client (none if it is gone). */
  release(): void;
  /** Never sends it; the client's connection is cut (if it is still there). */
  drop(): void;
}

/** One answer kept from the client. */
export interface HeldAnswer {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

// Hop-by-hop headers are the proxy's own business on each side.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

function endToEnd(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())),
  );
}

export class HoldingProxy {
  /** null: forward everything. */
  hold: Hold | null = null;
  readonly held: HeldAnswer[] = [];
  /** null: forward every request at once (answers still held as `hold` says). */
  holdRequests: Hold | null = null;
  readonly heldRequests: HeldRequest[] = [];
  readonly #server: Server;
  readonly #upstream: URL;
  readonly #agent: Agent;

  private constructor(cp: ControlPlane) {
    this.#upstream = new URL(cp.server);
    this.#agent = new Agent({ keepAlive: true, ca: cp.clusterCaPem });
    const tls = {
      cert: readFileSync(cp.pki.paths.apiserverCert),
      key: readFileSync(cp.pki.paths.apiserverKey),
    };
    this.#server = createServer(tls, (request, response) => {
      this.#forward(request, response);
    });
  }

  static async start(cp: ControlPlane): Promise<HoldingProxy> {
    const proxy = new HoldingProxy(cp);
    await new Promise<void>(resolve => proxy.#server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  #forward(request: IncomingMessage, response: ServerResponse): void {
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    const pathname = new URL(path, this.#upstream).pathname;
    if (this.holdRequests?.(method, pathname) === true) {
      // Read whole before it is counted as held: a held write is one the client finished sending.
      const body: Buffer[] = [];
      request.on('data', (chunk: Buffer) => body.push(chunk));
      request.once('end', () => {
        let settled = false;
        const once = (then: () => void) => () => {
          if (settled) return;
          settled = true;
          then();
        };
        this.heldRequests.push({
          method,
          path,
          release: once(() => {
            if (!request.socket.destroyed)
              this.#send(request, response, false).end(Buffer.concat(body));
          }),
          drop: once(() => response.destroy()),
        });
      });
      return;
    }
    const hold = this.hold?.(method, pathname) === true;
    request.pipe(this.#send(request, response, hold));
  }

  /** The request to the API server for `request`, its answer piped to `response` unless held. */
  #send(request: IncomingMessage, response: ServerResponse, hold: boolean): ClientRequest {
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    const upstream = httpsRequest(
      {
        agent: this.#agent,
        host: this.#upstream.hostname,
        port: this.#upstream.port,
        method,
        path,
        headers: { ...endToEnd(request.headers), host: this.#upstream.host },
      },
      answer => {
        if (hold) {
          // The API server has answered; the client waits on, until it is killed.
          answer.resume();
          answer.once('end', () => {
            this.held.push({ method, path, status: answer.statusCode ?? 0 });
          });
          return;
        }
        response.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        // Watches stream: the headers go at once, each chunk as it comes.
        response.flushHeaders();
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    // A client gone mid-request takes its request upstream with it, unless its answer is held: a
    // held write is carried through to the end, whatever becomes of the client.
    response.on('close', () => {
      if (!hold && !response.writableFinished) upstream.destroy();
    });
    return upstream;
  }

  async stop(): Promise<void> {
    const closed = new Promise(resolve => this.#server.close(resolve));
    this.#server.closeAllConnections();
    await closed;
    this.#agent.destroy();
  }
}
