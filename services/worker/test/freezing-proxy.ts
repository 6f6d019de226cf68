// A loopback TCP proxy in front of Redis that can turn every connection it carries into a zombie:
// the sockets stay open (no FIN, no RST) but nothing more is forwarded either way, as after a NAT
// or conntrack entry is lost or a peer is cut off without a word. Connections opened after that
// are forwarded as ever, so a client that notices and reconnects recovers.
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

export class FreezingProxy {
  readonly #server: Server;
  readonly #pairs = new Set<readonly [Socket, Socket]>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(upstreamPort: number): Promise<FreezingProxy> {
    const server = createServer();
    const proxy = new FreezingProxy(server);
    server.on('connection', client => {
      const upstream = connect(upstreamPort, '127.0.0.1');
      const pair = [client, upstream] as const;
      proxy.#pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const end = (): void => {
        proxy.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Connections open now. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** Every connection open now stops forwarding, and stays open. Returns how many. */
  freeze(): number {
    const frozen = this.#pairs.size;
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      // Read nothing more from either side: their bytes sit in the kernel's buffers.
      client.pause();
      upstream.pause();
    }
    this.#pairs.clear();
    return frozen;
  }

  async close(): Promise<void> {
    this.#server.close();
    for (const [client, upstream] of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}
