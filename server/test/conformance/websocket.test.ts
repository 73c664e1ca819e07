import { dialWebSocket, ListeningServer } from '@pulse/testing';
import { conformanceSuite } from './conformance-suite.ts';

conformanceSuite({
  transport: 'websocket',
  networked: true,
  async start(options) {
    const server = await ListeningServer.start(options);
    return { node: server.node, open: dialWebSocket(server.websocketUrl), stop: () => server.stop() };
  },
});
