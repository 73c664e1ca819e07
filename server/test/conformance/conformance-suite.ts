import { randomBytes } from 'node:crypto';
import {
  FrameClient,
  type OpenTransport,
  reconnect,
  register,
  TEST_CODEC,
  type TestServerOptions,
  type WireTransport,
} from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PulseNode, TransportKind } from '../../src/index.ts';
import { bytes, expectClose, until } from '../helpers/assertions.ts';
import { withServer as withTestServer } from '../helpers/with-server.ts';

/** A running server as the suite sees it. */
export interface ServerUnderTest {
  /** The node behind the way in: its metrics and sessions. */
  readonly node: PulseNode;
  /** Opens one more client connection to the server. */
  readonly open: OpenTransport<WireTransport>;
  /** Stops the server (every session hears SERVER_SHUTDOWN). */
  stop(): Promise<void>;
}

/** One way into the server: in-process over in-memory connections, or a real transport on 127.0.0.1. */
export interface WayIn {
  /** The server's label for these connections, in its metrics. */
  readonly transport: TransportKind;
  /**
   * Over real sockets: the transport's framing (an oversized frame ends the
   * connection) and the real timers are tested too. In-memory connections carry
   * whole frames, and in-process tests move a fake clock instead.
   */
  readonly networked: boolean;
  start(options?: TestServerOptions): Promise<ServerUnderTest>;
}

/**
 * What every way into the server must do, run once per way: in-process over
 * in-memory connections (conformance/memory.test.ts) and over each real transport
 * (websocket.test.ts, webtransport.test.ts). The handshake, framing and its
 * errors, routing, the peer's address for per-IP limits, close codes reaching the
 * peer, backpressure (bufferedAmount), metrics labels. What only the core decides
 * is tested in-process once (test/behaviour/).
 */
export function conformanceSuite(way: WayIn): void {
  const { transport } = way;
  /** A server started with `options`, stopped after `body`. */
  const withServer = (options: TestServerOptions, body: (server: ServerUnderTest) => Promise<void>) =>
    withTestServer(() => way.start(options), body);

  describe(`${transport}: handshake, routing, framing`, () => {
    let server: ServerUnderTest;
    let open: OpenTransport<WireTransport>;
    beforeAll(async () => {
      server = await way.start({ limits: { maxFrameBytes: 64 * 1024, maxMessageSize: 32 * 1024 } });
      open = server.open;
    });
    afterAll(() => server.stop());

    it('answers hello with welcome and a fresh 32-byte challenge per connection', async () => {
      const a = await FrameClient.connect(open);
      const b = await FrameClient.connect(open);
      expect(a.challenge.length).toBe(32);
      expect(Buffer.from(a.challenge).equals(Buffer.from(b.challenge))).toBe(false);
      a.close();
      b.close();
    });

    it('closes with PROTO_NO_COMMON_VERSION when no version is shared', async () => {
      const client = await FrameClient.open(open);
      client.send({ type: 'hello', versions: [99], client: 'future' });
      await expectClose(client, 'PROTO_NO_COMMON_VERSION');
    });

    it('routes an envelope and a channel message between devices, and redelivers after a reconnect', async () => {
      const alice = await register(open);
      const bob = await register(open);
      await bob.client.expect({ type: 'subscribe', id: 0, channel: 'public:conformance' }, 'subscribed');
      const sent = await alice.client.expect(
        { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(40, 1) }] },
        'sent',
      );
      const delivered = await bob.client.next('deliver');
      expect(delivered).toMatchObject({
        envelopeId: sent.envelopeIds[0],
        from: { account: alice.account, deviceId: 1 },
      });
      expect(delivered.payload).toEqual(bytes(40, 1));
      await alice.client.expect(
        { type: 'publish', id: 0, channel: 'public:conformance', payload: bytes(9, 2) },
        'published',
      );
      expect((await bob.client.next('channel_message')).payload).toEqual(bytes(9, 2));
      // Not acknowledged: it comes again on the next connection.
      await reconnect(open, bob);
      expect((await bob.client.next('deliver')).envelopeId).toBe(sent.envelopeIds[0]);
    });

    it('answers random bytes and malformed frames with typed errors and keeps serving', async () => {
      const client = await FrameClient.connect(open);
      for (let i = 0; i < 20; i++) client.sendBytes(new Uint8Array(randomBytes(1 + ((i * 37) % 300))));
      client.sendBytes(TEST_CODEC.encode({ type: 'ping', nonce: 1 }).subarray(0, 3));
      client.sendBytes(new Uint8Array([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xa3, 0x78, 0x79, 0x7a])); // {type:'xyz'}
      const errors: string[] = [];
      for (let i = 0; i < 22; i++) {
        const error = await client.next('error');
        errors.push(error.code);
      }
      expect(errors.every((code) => code.startsWith('PROTO_') || code === 'RATE_LIMITED')).toBe(true);
      expect(errors).toContain('PROTO_UNKNOWN_TYPE');
      const pong = await client.exchange({ type: 'ping', nonce: 2 }, 'pong');
      expect(pong.nonce).toBe(2);
      // Another client is unaffected.
      const other = await register(open);
      await other.client.expect({ type: 'device_list', id: 0 }, 'devices');
    });

    if (way.networked) {
      // The transport delimits frames: one above max_frame_bytes is a framing error that ends the connection.
      it('closes a connection that sends an oversized frame, and keeps serving others', async () => {
        const client = await FrameClient.connect(open);
        client.sendBytes(new Uint8Array(70 * 1024));
        await client.closed();
        // Nothing but the end: at most a close frame saying why (WebSocket closes with 1009 alone).
        const answers = client.inbox.filter(
          (frame) => !(frame.type === 'close' && frame.code === 'PROTO_FRAME_TOO_LARGE'),
        );
        expect(answers).toEqual([]);
        const other = await register(open);
        await other.client.expect({ type: 'device_list', id: 0 }, 'devices');
      });
    }

    it('a newer connection of the same device replaces the older one (close SESSION_REPLACED)', async () => {
      const device = await register(open);
      const old = device.client;
      await reconnect(open, device);
      await expectClose(old, 'SESSION_REPLACED');
    });
  });

  describe(`${transport}: limits and close codes`, () => {
    it('limits connections per address (SERVER_BUSY) and frees the slot on close', async () => {
      await withServer({ limits: { maxConnectionsPerIp: 2 } }, async (server) => {
        const a = await FrameClient.connect(server.open);
        const b = await FrameClient.connect(server.open);
        const c = await FrameClient.open(server.open);
        await expectClose(c, 'SERVER_BUSY');
        a.close();
        await a.closed();
        // The slot is free again once the server has seen the close.
        await until(() => server.node.sessionCount <= 1);
        expect(server.node.sessionCount).toBe(1);
        const d = await FrameClient.connect(server.open);
        d.close();
        b.close();
      });
    });

    it('limits connections in total (SERVER_BUSY)', async () => {
      await withServer({ limits: { maxConnections: 1 } }, async (server) => {
        const a = await FrameClient.connect(server.open);
        const b = await FrameClient.open(server.open);
        await expectClose(b, 'SERVER_BUSY');
        a.close();
      });
    });

    it('cuts off a connection that keeps flooding past the limit (close RATE_LIMITED)', async () => {
      // `other` comes from the flooder's address: a 1 ms `rate_penalty` lets it in (the penalty itself:
      // server/test/edge/flood-penalty.test.ts).
      await withServer({ limits: { rate: 1, rateBurst: 3, rateRefusals: 3, ratePenalty: 1 } }, async (server) => {
        const client = await FrameClient.connect(server.open);
        for (let i = 0; i < 20; i++) client.send({ type: 'ping', nonce: i });
        await expectClose(client, 'RATE_LIMITED');
        const other = await FrameClient.connect(server.open);
        expect((await other.exchange({ type: 'ping', nonce: 7 }, 'pong')).nonce).toBe(7);
      });
    });

    it('closes a consumer that stops reading once its send queue overflows (SLOW_CONSUMER)', async () => {
      const limits = { sendQueueBytes: 64 * 1024, maxMessageSize: 60_000, rateBurst: 5_000 };
      await withServer({ limits }, async (server) => {
        const slow = await register(server.open);
        const publisher = await register(server.open);
        await slow.client.expect({ type: 'subscribe', id: 0, channel: 'public:firehose' }, 'subscribed');
        slow.client.transport.pauseReading();
        const violations = async () =>
          (await server.node.metrics.limitViolations.get()).values.find((v) => v.labels.limit === 'send_queue')
            ?.value ?? 0;
        const payload = bytes(50_000);
        let published = 0;
        while ((await violations()) === 0 && published < 2_000) {
          await publisher.client.expect({ type: 'publish', id: 0, channel: 'public:firehose', payload }, 'published');
          published++;
        }
        expect(await violations()).toBe(1);
        expect(server.node.sessionCount).toBe(1);
        // The publisher is unaffected.
        await publisher.client.expect({ type: 'publish', id: 0, channel: 'public:firehose', payload }, 'published');
      });
    });

    if (way.networked) {
      it('closes a connection that does not authenticate within the heartbeat timeout (real timers)', async () => {
        await withServer({ heartbeat: { interval: 100, timeout: 300 } }, async (server) => {
          const client = await FrameClient.connect(server.open);
          client.send({ type: 'ping', nonce: 1 });
          await expectClose(client, 'AUTH_REQUIRED');
        });
      });
    }

    it('counts connections, messages, channels, envelopes and latency labelled by transport', async () => {
      await withServer({}, async (server) => {
        const metrics = () => server.node.metrics.registry.metrics();
        const device = await register(server.open);
        await device.client.expect({ type: 'subscribe', id: 0, channel: 'public:m' }, 'subscribed');
        const text = await metrics();
        expect(text).toMatch(new RegExp(`pulse_connections_total\\{transport="${transport}"\\} 1`));
        expect(text).toMatch(new RegExp(`pulse_connections_active\\{transport="${transport}"\\} 1`));
        expect(text).toMatch(new RegExp(`pulse_messages_total\\{transport="${transport}",direction="in"\\} 3`));
        expect(text).toMatch(new RegExp(`pulse_channels_active\\{transport="${transport}"\\} 1`));
        expect(text).toMatch(/pulse_channels_active\{transport="all"\} 1/);
        expect(text).toMatch(new RegExp(`pulse_latency_seconds_count\\{transport="${transport}",type="register"\\} 1`));
        await device.client.expect({ type: 'unsubscribe', id: 0, channel: 'public:m' }, 'ok');
        expect(await metrics()).toMatch(/pulse_channels_active\{transport="all"\} 0/);
        const bob = await register(server.open);
        await device.client.expect(
          { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: new Uint8Array(1) }] },
          'sent',
        );
        await bob.client.next('deliver');
        const sent = await metrics();
        expect(sent).toMatch(/pulse_envelopes_total\{event="stored"\} 1/);
        expect(sent).toMatch(/pulse_envelopes_total\{event="delivered"\} 1/);
        expect(sent).toMatch(
          new RegExp(`pulse_latency_seconds_count\\{transport="${transport}",type="send_commit"\\} 1`),
        );
      });
    });

    it('tells connected clients SERVER_SHUTDOWN on stop', async () => {
      const server = await way.start();
      const device = await register(server.open);
      const stopped = server.stop();
      await expectClose(device.client, 'SERVER_SHUTDOWN');
      await stopped;
    });
  });
}
