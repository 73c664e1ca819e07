/**
 * The bare `ws` baseline: what any WebSocket pub/sub pays at least. A client on
 * `/pub` publishes; every message it sends is written as it is to every client on
 * `/sub`, one `send` per message per subscriber. Also the idle-connection
 * baseline (a socket held, nothing more).
 */
import { type WebSocket, WebSocketServer } from 'ws';
import { serveRequests } from '../lib/ipc.ts';

const subscribers = new Set<WebSocket>();
let server: WebSocketServer | undefined;

serveRequests({
  async listen() {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: false });
    server = wss;
    wss.on('connection', (socket, request) => {
      request.socket.setNoDelay(true);
      if (request.url === '/pub') {
        socket.on('message', (data: Buffer) => {
          for (const subscriber of subscribers) subscriber.send(data);
        });
        return;
      }
      subscribers.add(socket);
      socket.on('close', () => subscribers.delete(socket));
    });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    return `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
  },
  subscribers: () => subscribers.size,
  async close() {
    for (const socket of subscribers) socket.terminate();
    await new Promise((resolve) => server?.close(resolve));
  },
});
