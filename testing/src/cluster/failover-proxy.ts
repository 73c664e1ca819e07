import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP front for several nodes, as a load balancer with health checks is in
 * front of a cluster: each connection goes to the first backend, in the
 * order given, that accepts it. When a node dies its clients' connections
 * drop, and their reconnects land on the next node. One proxy per client
 * pins that client to a node of the test's choosing while it is alive.
 */
export class FailoverProxy {
  readonly #server: Server;
  readonly #backends: readonly number[];
  readonly #sockets = new Set<Socket>();
  #port = 0;

  private constructor(backends: readonly number[]) {
    this.#backends = backends;
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Listens on a free port of 127.0.0.1; `backends` are TCP ports on 127.0.0.1, in order of preference. */
  static async start(backends: readonly number[]): Promise<FailoverProxy> {
    const proxy = new FailoverProxy(backends);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = proxy.#server.address();
    proxy.#port = typeof address === 'object' && address !== null ? address.port : 0;
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** The HTTP base URL through the proxy (what a client is told as its server). */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.#sockets.add(client);
    client.once('close', () => this.#sockets.delete(client));
    client.pause();
    void this.#connect(0).then((backend) => {
      if (backend === undefined || client.destroyed) {
        client.destroy();
        backend?.destroy();
        return;
      }
      this.#sockets.add(backend);
      backend.once('close', () => {
        this.#sockets.delete(backend);
        client.destroy();
      });
      client.once('close', () => backend.destroy());
      client.on('error', () => backend.destroy());
      client.pipe(backend);
      backend.pipe(client);
      client.resume();
    });
  }

  /** The first backend from `index` on that accepts a connection. */
  #connect(index: number): Promise<Socket | undefined> {
    const port = this.#backends[index];
    if (port === undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        socket.on('error', () => socket.destroy());
        resolve(socket);
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(this.#connect(index + 1));
      });
    });
  }
}
