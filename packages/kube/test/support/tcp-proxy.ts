// A TCP pass-through in front of the API server, so tests can break real connections: `cut()`
// resets every open connection (a dropped watch), `pause()` also refuses new ones (the API server
// unreachable) until `resume()`. TLS stays end to end between the client and kube-apiserver.
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;
  /** Connections accepted since start. */
  accepted = 0;
  /** While true, new connections are accepted and then left silent: a black hole. */
  stalled = false;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.#listen(0);
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** How many client connections are open right now. */
  get open(): number {
    return this.#sockets.size / 2;
  }

  #listen(port: number): Promise<void> {
    const server = createServer(client => {
      this.accepted++;
      if (this.stalled) {
        this.#sockets.add(client);
        client.on('error', () => undefined);
        client.on('close', () => this.#sockets.delete(client));
        return;
      }
      const upstream = connect(this.#target);
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.#sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          this.#sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        if (address !== null && typeof address === 'object') this.#port = address.port;
        resolve();
      });
    });
  }

  /** Resets every open connection (RST), as a dropped network path or a killed API server does. */
  cut(): void {
    for (const socket of this.#sockets) socket.resetAndDestroy();
  }

  /** Stops accepting (connection refused) and cuts open connections. */
  async pause(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const closed = new Promise<void>(resolve => {
      if (server === undefined) resolve();
      else
        server.close(() => {
          resolve();
        });
    });
    this.cut();
    await closed;
  }

  async resume(): Promise<void> {
    if (this.#server !== undefined) return;
    await this.#listen(this.#port);
  }

  async stop(): Promise<void> {
    await this.pause();
  }
}
