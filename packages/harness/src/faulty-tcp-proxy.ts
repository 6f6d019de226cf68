// A loopback TCP proxy in front of Redis that the fault tests turn bad in two ways:
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

  /** from → to, each chunk after the delay in force when it arrived, never overtaking another. */
  #forward(from: Socket, to: Socket): void {
    let releaseAt = 0;
    from.on('data', (chunk: Buffer) => {
      const { ms, jitterMs } = this.#delay;
      if (ms === 0 && releaseAt <= performance.now()) {
        to.write(chunk);
        return;
      }
      const wanted = performance.now() + ms + (Math.random() * 2 - 1) * jitterMs;
      releaseAt = Math.max(releaseAt, wanted);
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, releaseAt - performance.now());
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
