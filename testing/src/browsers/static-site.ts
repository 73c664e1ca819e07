import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StaticFile {
  readonly type: string;
  readonly body: string;
}

export interface StaticSite {
  /** `http://127.0.0.1:PORT`: a secure context, so IndexedDB, WebCrypto and service workers work. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `files` (path → content) on 127.0.0.1: a page origin for browser tests that need no Pulse server. */
export async function serveStatic(files: Readonly<Record<string, StaticFile>>): Promise<StaticSite> {
  const server = createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://localhost').pathname];
    if (file === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
