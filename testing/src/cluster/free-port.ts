import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 the OS just handed out and released: free now, as
 * far as anyone can tell. For servers whose port must be known before they
 * start (NATS cluster routes, a restart on the same port).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
