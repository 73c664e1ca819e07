/**
 * The Socket.IO baseline: subscribers join one room; what a publisher emits is
 * emitted to the room (`io.to(room).emit`), binary payloads, WebSocket transport only.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { serveRequests } from '../lib/ipc.ts';

const ROOM = 'bench';

serveRequests({
  async listen() {
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, maxHttpBufferSize: 1e7 });
    io.on('connection', (socket) => {
      if (socket.handshake.query.role === 'pub') {
        socket.on('pub', (payload: Buffer) => {
          io.to(ROOM).emit('m', payload);
        });
        return;
      }
      void socket.join(ROOM);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  },
});
