import { DEFAULT_PROTO_LIMITS, PROTOCOL_VERSIONS } from '@pulse/proto';
import { InProcessServer, type ServerProcess, spawnServer, transportSuite } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_CLIENT_LIMITS,
  fetchServerInfo,
  PulseError,
  type ServerInfo,
  type TransportFactories,
} from '../src/index.ts';
import { nodeTransportFactories } from '../src/node.ts';
import { openFirst, serverInfo, transportOrder } from '../src/transport/negotiate.ts';
import type { FrameTransport, TransportEvents } from '../src/transport/types.ts';
import { openWebSocket } from '../src/transport/websocket.ts';
import { openWebTransport } from '../src/transport/webtransport.ts';
import { memoryClient } from './helpers.ts';

// The real server process over real sockets: generous when the machine is busy (the 2 cores are shared).
vi.setConfig({ hookTimeout: 120_000 });

let server: ServerProcess;
let inProcess: InProcessServer;
let info: ServerInfo;
let factories: TransportFactories;

beforeAll(async () => {
  [server, factories] = await Promise.all([spawnServer(), nodeTransportFactories()]);
  info = await fetchServerInfo(server.baseUrl, DEFAULT_CLIENT_LIMITS);
  inProcess = InProcessServer.start();
});
afterAll(async () => {
  await inProcess?.stop();
  await server?.stop();
});

transportSuite('WebSocket to the server process', () => ({
  kind: 'websocket',
  open: (events) => openWebSocket(factories.webSocket!, info.webSocket!.url, 5_000, events),
}));

transportSuite('WebTransport (QUIC, HTTP/3) to the server process', () => ({
  kind: 'webtransport',
  open: (events) =>
    openWebTransport(
      factories.webTransport!,
      info.webTransport!.url,
      info.webTransport!.certificateHashes,
      { timeoutMs: 5_000, maxFrameBytes: DEFAULT_PROTO_LIMITS.maxFrameBytes },
      events,
    ),
}));

transportSuite('an in-memory connection to the in-process server', () => ({
  kind: 'websocket',
  open: (events) => inProcess.connect(events).client,
}));

const limits = DEFAULT_CLIENT_LIMITS;
const UNREACHABLE = 'http://127.0.0.1:9';

describe('a direct transport (TransportFactories.direct)', () => {
  const transport: FrameTransport = { kind: 'webtransport', send: () => {}, close: () => {} };
  const opened: TransportEvents[] = [];
  const direct: TransportFactories = {
    webSocket: () => {
      throw new Error('the network must not be used');
    },
    direct: {
      kind: 'webtransport',
      open: (events) => {
        opened.push(events);
        return transport;
      },
    },
  };

  it('needs no /pulse/info: the server URL is never fetched', async () => {
    const info = await serverInfo(UNREACHABLE, direct, limits);
    expect(info).toEqual({ versions: PROTOCOL_VERSIONS, webTransport: undefined, webSocket: undefined });
    await expect(serverInfo(UNREACHABLE, {}, limits)).rejects.toSatisfy((e) => PulseError.is(e, 'SERVER_UNREACHABLE'));
  });

  it('is the only transport tried, whatever the preference, and reports its kind', async () => {
    const info = await serverInfo(UNREACHABLE, direct, limits);
    for (const preference of ['auto', 'websocket', 'webtransport'] as const) {
      expect(transportOrder(preference, info, direct, undefined, 0, limits)).toEqual(['webtransport']);
    }
    const events: TransportEvents = { onFrame: () => {}, onClose: () => {} };
    expect(await openFirst(['webtransport'], info, direct, limits, events)).toBe(transport);
    expect(opened).toEqual([events]);
  });

  it('a direct transport that cannot open counts as an unreachable server', async () => {
    const failing: TransportFactories = {
      direct: {
        kind: 'websocket',
        open: () => {
          throw new Error('network down (test)');
        },
      },
    };
    const info = await serverInfo(UNREACHABLE, failing, limits);
    await expect(
      openFirst(['websocket'], info, failing, limits, { onFrame: () => {}, onClose: () => {} }),
    ).rejects.toSatisfy((e) => PulseError.is(e, 'SERVER_UNREACHABLE') && e.message.includes('network down'));
  });
});

describe('a client on an in-process server', () => {
  it('connects over the direct transport and shows its kind as the transport in use', async () => {
    const { client } = await memoryClient(inProcess, {
      factories: inProcess.transportFactories({ kind: 'webtransport' }),
    });
    try {
      await client.register('direct-user');
      expect(client.status).toMatchObject({ state: 'connected', transport: 'webtransport' });
      expect(inProcess.sessionCount).toBe(1);
      expect(await inProcess.metrics()).toMatch(/pulse_connections_total\{transport="webtransport"\} 1/);
    } finally {
      await client.close();
    }
  });
});
