import { InProcessServer } from '@pulse/testing';
import { conformanceSuite } from './conformance-suite.ts';

// The server in this process over in-memory connections, labelled `memory` as an embedding's would be.
conformanceSuite({
  transport: 'memory',
  networked: false,
  async start(options) {
    const server = InProcessServer.start(options);
    return { node: server.node, open: server.dial({ serverTransport: 'memory' }), stop: () => server.stop() };
  },
});
