/**
 * Ephemeral events (PROTOCOL.md "Ephemeral events", issue 14) through the real
 * server over real sockets: relayed to the devices online now, in WebTransport
 * datagrams both ways when the session has them, on the stream otherwise;
 * never stored (the SQLite file is read before and after); dropped and counted
 * when the device is offline, over the connection's budget, or when a datagram
 * carries anything but `send_ephemeral`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Frame, type FrameOf, MAX_EPHEMERAL_PAYLOAD_BYTES } from '@pulse/proto';
import {
  type Device,
  dialWebSocket,
  dialWebTransport,
  type FrameClient,
  ListeningServer,
  type ListeningServerOptions,
  register,
  TEST_CODEC,
  type WebTransportWire,
} from '@pulse/testing';
import { createDevCertificate } from '@pulse/webtransport/node';
import { describe, expect, it, vi } from 'vitest';
import { withServer as withTestServer } from '../helpers/with-server.ts';

vi.setConfig({ testTimeout: 60_000 });

const certificate = await createDevCertificate();
const withServer = (options: ListeningServerOptions, body: (server: ListeningServer) => Promise<void>) =>
  withTestServer(() => ListeningServer.start({ ...options, certificate }), body);

const typing = (to: string, deviceId: number, payload: Uint8Array): FrameOf<'send_ephemeral'> => ({
  type: 'send_ephemeral',
  to,
  envelopes: [{ deviceId, payload }],
});

/** One counter's value on /metrics (the metrics listener), 0 when it has not been counted yet. */
async function counter(server: ListeningServer, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(server.metricsUrl)).text();
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    if (wanted.every((label) => labelText.split(',').includes(label))) return Number(line.split(' ').pop());
  }
  return 0;
}

/** The SQLite files as they are on disk (database and write-ahead log), by hash, and the envelope rows. */
function databaseState(server: ListeningServer): Record<string, string> {
  const state: Record<string, string> = {};
  for (const name of ['pulse.db', 'pulse.db-wal']) {
    const path = join(server.dataDir, name);
    state[name] = existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'absent';
  }
  return state;
}

/** A ping answered on `client`'s stream: everything the server queued for it before has arrived. */
async function roundTrip(client: FrameClient, nonce: number): Promise<void> {
  expect((await client.exchange({ type: 'ping', nonce }, 'pong')).nonce).toBe(nonce);
}

/** Datagrams may be lost, even on 127.0.0.1: sends `frame` in one until `arrived` holds (at most 20 tries). */
async function untilRelayed(sender: Device<WebTransportWire>, frame: Frame, arrived: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 20 && !arrived(); attempt++) {
    sender.client.transport.sendDatagram(TEST_CODEC.encode(frame));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('ephemeral events over WebTransport datagrams', () => {
  it('relays send_ephemeral from a datagram to the recipient in a datagram, and stores nothing', async () => {
    await withServer({}, async (server) => {
      const open = dialWebTransport(server.webtransportUrl, certificate.sha256);
      const alice = await register(open);
      const bob = await register(open);
      const before = databaseState(server);

      const payload = Uint8Array.of(1, 2, 3, 4);
      await untilRelayed(alice, typing(bob.account, bob.deviceId, payload), () =>
        bob.client.inbox.some((frame) => frame.type === 'ephemeral'),
      );
      const event = await bob.client.next('ephemeral');
      expect(event.from).toEqual({ account: alice.account, deviceId: alice.deviceId });
      expect(event.payload).toEqual(payload);
      expect(bob.client.datagramFrames).toBeGreaterThanOrEqual(1);
      expect(await counter(server, 'pulse_ephemeral_total', { event: 'datagram_in' })).toBeGreaterThanOrEqual(1);
      expect(await counter(server, 'pulse_ephemeral_total', { event: 'datagram_out' })).toBeGreaterThanOrEqual(1);

      // Nothing of it reached the store: the database and its log are byte for byte as they were.
      await roundTrip(alice.client, 1);
      expect(databaseState(server)).toEqual(before);
    });
  });

  it('refuses any other frame on a datagram, unanswered, and counts it', async () => {
    await withServer({}, async (server) => {
      const open = dialWebTransport(server.webtransportUrl, certificate.sha256);
      const alice = await register(open);
      const bob = await register(open);
      const refused = () => counter(server, 'pulse_limit_violations_total', { limit: 'datagram_frame' });

      // A durable send and a ping in datagrams: neither is handled (no `sent`, no `pong`), both counted.
      const send: Frame = {
        type: 'send',
        id: 77,
        to: bob.account,
        envelopes: [{ deviceId: 1, payload: Uint8Array.of(9) }],
      };
      for (let attempt = 0; attempt < 20 && (await refused()) < 2; attempt++) {
        alice.client.transport.sendDatagram(TEST_CODEC.encode(send));
        alice.client.transport.sendDatagram(TEST_CODEC.encode({ type: 'ping', nonce: 999 }));
        alice.client.transport.sendDatagram(Uint8Array.of(0xc1)); // not MessagePack at all
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await refused()).toBeGreaterThanOrEqual(3);
      await roundTrip(alice.client, 5);
      const answers = alice.client.inbox.filter((frame) => ['sent', 'error', 'pong'].includes(frame.type));
      expect(answers).toEqual([]);
      await roundTrip(bob.client, 6);
      expect(bob.client.inbox.filter((frame) => frame.type === 'deliver')).toEqual([]);
      // The session goes on: an ephemeral frame in a datagram is still relayed.
      await untilRelayed(alice, typing(bob.account, 1, Uint8Array.of(7)), () =>
        bob.client.inbox.some((frame) => frame.type === 'ephemeral'),
      );
      expect((await bob.client.next('ephemeral')).payload).toEqual(Uint8Array.of(7));
    });
  });

  it('sends an ephemeral frame too large for a datagram on the stream instead', async () => {
    await withServer({}, async (server) => {
      const open = dialWebTransport(server.webtransportUrl, certificate.sha256);
      const alice = await register(open);
      const bob = await register(open);
      // Above any QUIC datagram (at most a packet): the server must fall back to bob's stream.
      const payload = new Uint8Array(3000).fill(5);
      alice.client.send(typing(bob.account, 1, payload));
      const event = await bob.client.next('ephemeral');
      expect(event.payload).toEqual(payload);
      expect(bob.client.datagramFrames).toBe(0);
      expect(await counter(server, 'pulse_ephemeral_total', { event: 'datagram_too_large' })).toBe(1);
    });
  });
});

describe('ephemeral events on the stream (WebSocket)', () => {
  it('relays a burst to the online device, drops it for an offline one (counted), and stores nothing', async () => {
    await withServer({}, async (server) => {
      const open = dialWebSocket(server.websocketUrl);
      const alice = await register(open);
      const bob = await register(open);
      const before = databaseState(server);

      for (let i = 0; i < 50; i++) alice.client.send(typing(bob.account, 1, Uint8Array.of(i)));
      await roundTrip(alice.client, 1);
      await roundTrip(bob.client, 2);
      const events = bob.client.inbox.filter((frame) => frame.type === 'ephemeral');
      expect(events.map((frame) => (frame as FrameOf<'ephemeral'>).payload[0])).toEqual([...Array(50).keys()]);
      expect(await counter(server, 'pulse_ephemeral_total', { transport: 'websocket', event: 'relayed' })).toBe(50);

      // Bob goes offline: what is sent meanwhile is dropped, counted, and never delivered later.
      bob.client.close();
      await bob.client.closed();
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let i = 0; i < 5; i++) alice.client.send(typing(bob.account, 1, Uint8Array.of(100 + i)));
      // Device 2 never existed: the server does not look it up, it is simply not online.
      alice.client.send(typing(bob.account, 2, Uint8Array.of(200)));
      await roundTrip(alice.client, 3);
      expect(await counter(server, 'pulse_ephemeral_total', { transport: 'websocket', event: 'offline' })).toBe(6);
      expect(databaseState(server)).toEqual(before);
    });
  });

  it('drops what exceeds the connection’s ephemeral budget and counts it (ephemeral_rate, ephemeral_burst)', async () => {
    await withServer({ limits: { ephemeralRate: 1, ephemeralBurst: 5 } }, async (server) => {
      const open = dialWebSocket(server.websocketUrl);
      const alice = await register(open);
      const bob = await register(open);
      for (let i = 0; i < 20; i++) alice.client.send(typing(bob.account, 1, Uint8Array.of(i)));
      await roundTrip(alice.client, 1);
      await roundTrip(bob.client, 2);
      const relayed = bob.client.inbox.filter((frame) => frame.type === 'ephemeral').length;
      const dropped = await counter(server, 'pulse_limit_violations_total', { limit: 'ephemeral_rate' });
      // The burst passes (one more per second of test at most); the rest is dropped, unanswered, and counted.
      expect(relayed).toBeGreaterThanOrEqual(5);
      expect(relayed).toBeLessThan(10);
      expect(relayed + dropped).toBe(20);
      expect(alice.client.inbox.filter((frame) => frame.type === 'error')).toEqual([]);
      // A frame addressing more devices than an account may have is refused whole.
      const many = Array.from({ length: 17 }, (_, i) => ({ deviceId: i + 1, payload: Uint8Array.of(i) }));
      alice.client.send({ type: 'send_ephemeral', to: bob.account, envelopes: many });
      await roundTrip(alice.client, 3);
      expect(await counter(server, 'pulse_limit_violations_total', { limit: 'ephemeral_devices' })).toBe(1);
    });
  });

  it('drops ephemeral frames for a reader that stops reading, and never closes it (SLOW_CONSUMER is for the rest)', async () => {
    const limits = { sendQueueBytes: 64 * 1024, ephemeralRate: 100_000, ephemeralBurst: 100_000, rateBurst: 100_000 };
    await withServer({ limits }, async (server) => {
      const open = dialWebSocket(server.websocketUrl);
      const alice = await register(open);
      const bob = await register(open);
      bob.client.transport.pauseReading();
      const dropped = () => counter(server, 'pulse_dropped_events_total', { transport: 'websocket' });
      const payload = new Uint8Array(MAX_EPHEMERAL_PAYLOAD_BYTES).fill(3);
      // Up to 40 MiB: far beyond what the sockets' buffers and the 64 KiB queue take.
      for (let batch = 0; batch < 100 && (await dropped()) === 0; batch++) {
        for (let i = 0; i < 100; i++) alice.client.send(typing(bob.account, 1, payload));
        await roundTrip(alice.client, batch);
      }
      expect(await dropped()).toBeGreaterThan(0);
      expect(await counter(server, 'pulse_limit_violations_total', { limit: 'send_queue' })).toBe(0);
      expect(server.node.sessionCount).toBe(2);
      expect(bob.client.isClosed).toBe(false);
    });
  });
});
