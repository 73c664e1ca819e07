import { PROTOCOL_VERSIONS } from '@pulse/proto';
import type { TransportKind } from '@pulse/sdk';
import { describe, expect, it } from 'vitest';
import { uniqueAccount } from '../protocol/devices.ts';
import { FrameClient } from '../protocol/frame-client.ts';
import type { OpenTransport } from '../protocol/wire-transport.ts';

export interface TransportUnderTest {
  /** What the transport must report as its `kind`. */
  readonly kind: TransportKind;
  /** Opens one connection to a running Pulse server. */
  readonly open: OpenTransport;
}

/** Payload sizes from one byte to well past one network packet, so stream transports must reassemble. */
const PAYLOAD_SIZES = [1, 100, 1_200, 1_500, 16_384, 65_537, 100_000, 3, 0, 40_000];

/** Lets queued deliveries and late callbacks happen before "exactly once" is judged. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/**
 * The client side of PROTOCOL.md "Framing", the same for every transport: whole
 * frames in order both ways, the server's close after what it sent before, one
 * `onClose`, and sends after the end ignored. `setup` gives the transport to test
 * against a server that is running for the whole suite.
 */
export function transportSuite(name: string, setup: () => TransportUnderTest): void {
  describe(`${name}: the client transport contract`, () => {
    it('reports its kind, and hello is answered by welcome', async () => {
      const transport = setup();
      const client = await FrameClient.open(transport.open);
      expect(client.transport.kind).toBe(transport.kind);
      const welcome = await client.hello();
      expect(PROTOCOL_VERSIONS).toContain(welcome.version);
      client.close();
      await client.closed();
    });

    it('frames of every size arrive whole and in order, both ways', async () => {
      const client = await FrameClient.open(setup().open);
      const me = uniqueAccount('conformance');
      await client.register(me);
      const channel = `public:${me}`;
      client.send({ type: 'subscribe', id: client.nextId(), channel });
      await client.next('subscribed');

      const payloads = PAYLOAD_SIZES.map((size, n) => Uint8Array.from({ length: size }, (_, i) => (i * 7 + n) & 0xff));
      for (const payload of payloads) client.send({ type: 'publish', id: client.nextId(), channel, payload });
      const offsets: number[] = [];
      const received: Uint8Array[] = [];
      for (const _ of payloads) {
        offsets.push((await client.next('published')).offset);
        received.push((await client.next('channel_message')).payload);
      }
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      expect(received.map((payload) => payload.length)).toEqual(PAYLOAD_SIZES);
      // As hex: vitest compares long byte arrays one element at a time, slowly.
      const asHex = (payload: Uint8Array) => Buffer.from(payload).toString('hex');
      expect(received.map(asHex)).toEqual(payloads.map(asHex));

      const nonces = Array.from({ length: 50 }, (_, i) => i + 1);
      for (const nonce of nonces) client.send({ type: 'ping', nonce });
      const pongs: number[] = [];
      for (const _ of nonces) pongs.push((await client.next('pong')).nonce);
      expect(pongs).toEqual(nonces);
      client.close();
      await client.closed();
    });

    it("the server's close arrives after the frames it sent before, then onClose, once", async () => {
      const client = await FrameClient.open(setup().open);
      client.send({ type: 'hello', versions: [9_999], client: 'pulse-testing' });
      const reason = await client.closed();
      await settle();
      expect(client.inbox.map((frame) => frame.type)).toEqual(['close']);
      expect(client.inbox[0]).toMatchObject({ type: 'close', code: 'PROTO_NO_COMMON_VERSION' });
      expect(client.closeReasons).toEqual([reason]);
      expect(() => client.send({ type: 'ping', nonce: 1 })).not.toThrow();
      await settle();
      expect(client.closeReasons).toHaveLength(1);
    });

    it('close() ends the transport: onClose once, sends afterwards ignored', async () => {
      const client = await FrameClient.open(setup().open);
      await client.hello();
      client.close();
      await client.closed();
      expect(() => client.send({ type: 'ping', nonce: 2 })).not.toThrow();
      client.close();
      await settle();
      expect(client.closeReasons).toHaveLength(1);
      expect(client.inbox.filter((frame) => frame.type === 'pong')).toEqual([]);
    });
  });
}
