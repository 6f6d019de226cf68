// A loopback TCP proxy in front of Redis or kube-apiserver that the fault tests turn bad in two ways:
// - freeze(): every connection it carries becomes a zombie: the sockets stay open (no FIN, no RST)
//   but nothing more is forwarded either way, as after a NAT or conntrack entry is lost or a peer
//   is cut off without a word. Connections opened after that are forwarded as ever, so a client
//   that notices and reconnects recovers.
// - latency(ms, jitterMs): every chunk, in both directions, is held for ms ± jitter, in order.
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export class FaultyTcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  #delay = { ms: 0, jitterMs: 0 };

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(upstreamPort: number): Promise<FaultyTcpProxy> {
    const server = createServer();
    const proxy = new FaultyTcpProxy(server);
    server.on('connection', client => {
      const pair = { client, upstream: connect(upstreamPort, '127.0.0.1') };
      proxy.#pairs.add(pair);
      proxy.#forward(pair.client, pair.upstream);
      proxy.#forward(pair.upstream, pair.client);
      const end = (): void => {
        proxy.#pairs.delete(pair);
        pair.client.destroy();
        pair.upstream.destroy();
      };
      for (const socket of [pair.client, pair.upstream]) socket.on('error', end).on('close', end);
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /**
   * from → to, each chunk after the delay in force when it arrived, never overtaking another: one
   * queue per direction and one timer for its head (timers of different durations that fall due
   * together may fire in any order, which would reorder the stream).
   */
  #forward(from: Socket, to: Socket): void {
    const queue: { readonly chunk: Buffer; readonly at: number }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = (): void => {
      timer = undefined;
      while (queue.length > 0 && (queue[0]?.at ?? 0) <= performance.now()) {
        const head = queue.shift();
        if (head !== undefined && !to.destroyed) to.write(head.chunk);
      }
      const next = queue[0];
      if (next !== undefined) timer = setTimeout(pump, Math.max(0, next.at - performance.now()));
    };
    from.on('data', (chunk: Buffer) => {
      const { ms, jitterMs } = this.#delay;
      if (ms === 0 && queue.length === 0) {
        to.write(chunk);
        return;
      }
      const wanted = performance.now() + ms + (Math.random() * 2 - 1) * jitterMs;
      queue.push({ chunk, at: Math.max(queue.at(-1)?.at ?? 0, wanted) });
      timer ??= setTimeout(pump, Math.max(0, (queue[0]?.at ?? 0) - performance.now()));
    });
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Connections open now (a frozen one no longer counts). */
  get connections(): number {
    return this.#pairs.size;
  }

  /** Every connection open now stops forwarding, and stays open. Returns how many. */
  freeze(): number {
    const frozen = this.#pairs.size;
    for (const { client, upstream } of this.#pairs) {
      // Read nothing more from either side: their bytes sit in the kernel's buffers.
      client.removeAllListeners('data').pause();
      upstream.removeAllListeners('data').pause();
    }
    this.#pairs.clear();
    return frozen;
  }

  /** Holds every chunk from now on for ms ± jitterMs (0: forward at once again). */
  latency(ms: number, jitterMs = 0): void {
    this.#delay = { ms, jitterMs };
  }

  async close(): Promise<void> {
    this.#server.close();
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}
