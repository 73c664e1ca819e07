import { randomBytes } from 'node:crypto';
import type { FrameOf } from '@pulse/proto';
import { dialWebSocket, ListeningServer, reconnect, register } from '@pulse/testing';
import { describe, expect, it } from 'vitest';
import { withServer } from '../helpers/with-server.ts';

/**
 * Stored backlog is paced by the receiver's buffer, never a reason to disconnect
 * it (issue 11, "One user can lock another out of their inbox"). Over a real
 * WebSocket: a backlog many times `send_queue_bytes` of maximum-size payloads
 * reaches a recipient that reads at its own pace, without SLOW_CONSUMER.
 */
/** `n` random bytes (incompressible: the WebSocket may deflate) whose first byte is `mark`. */
function marked(n: number, mark: number): Uint8Array {
  const payload = new Uint8Array(randomBytes(n));
  payload[0] = mark;
  return payload;
}

describe('backlog pacing (WebSocket)', () => {
  // 48 × 200 kB: far more than the socket buffers of a loopback connection (about 3 MB here) and 36 send queues.
  const limits = { sendQueueBytes: 256 * 1024, maxMessageSize: 200_000, maxFrameBytes: 256 * 1024, rateBurst: 5_000 };
  const COUNT = 48;

  it('delivers a stored backlog far larger than the send queue to a reconnecting device', async () => {
    await withServer(
      () => ListeningServer.start({ limits }),
      async (server) => {
        const open = dialWebSocket(server.websocketUrl);
        const sender = await register(open);
        const recipient = await register(open);
        recipient.client.close();
        for (let i = 0; i < COUNT; i++) {
          const envelopes = [{ deviceId: 1, payload: marked(limits.maxMessageSize, i) }];
          await sender.client.expect({ type: 'send', id: 0, to: recipient.account, envelopes }, 'sent');
        }

        await reconnect(open, recipient);
        const received: FrameOf<'deliver'>[] = [];
        while (received.length < COUNT) {
          const deliver = await recipient.client.next('deliver');
          received.push(deliver);
          recipient.client.send({ type: 'deliver_ack', envelopeIds: [deliver.envelopeId] });
        }
        expect(received.map((d) => d.payload[0])).toEqual(Array.from({ length: COUNT }, (_, i) => i));
        expect(recipient.client.isClosed).toBe(false);
        const violations = (await server.node.metrics.limitViolations.get()).values;
        expect(violations.find((v) => v.labels.limit === 'send_queue')).toBeUndefined();
        expect(await pauses(server, 'envelopes')).toBeGreaterThan(0);
      },
    );
  });

  it('replays channel history far larger than the send queue to a subscriber catching up (since)', async () => {
    await withServer(
      () =>
        ListeningServer.start({
          limits: { ...limits, historySize: COUNT, historyBytes: 64 << 20, historyBytesPerAccount: 64 << 20 },
        }),
      async (server) => {
        const open = dialWebSocket(server.websocketUrl);
        const publisher = await register(open);
        const reader = await register(open);
        const channel = 'public:backlog';
        const first = await reader.client.expect({ type: 'subscribe', id: 0, channel }, 'subscribed');
        await reader.client.expect({ type: 'unsubscribe', id: 0, channel }, 'ok');
        for (let i = 0; i < COUNT; i++) {
          const payload = marked(limits.maxMessageSize, i);
          await publisher.client.expect({ type: 'publish', id: 0, channel, payload }, 'published');
        }

        const since = { epoch: first.epoch, offset: first.offset };
        const again = await reader.client.expect({ type: 'subscribe', id: 0, channel, since }, 'subscribed');
        expect(again.recovered).toBe(true);
        // A live publication during the catch-up comes after the replayed ones, in offset order.
        await publisher.client.expect({ type: 'publish', id: 0, channel, payload: marked(10, 99) }, 'published');
        const offsets: number[] = [];
        while (offsets.length < COUNT + 1) offsets.push((await reader.client.next('channel_message')).offset);
        expect(offsets).toEqual(Array.from({ length: COUNT + 1 }, (_, i) => first.offset + i + 1));
        expect(reader.client.isClosed).toBe(false);
        const violations = (await server.node.metrics.limitViolations.get()).values;
        expect(violations.find((v) => v.labels.limit === 'send_queue')).toBeUndefined();
        expect(await pauses(server, 'replay')).toBeGreaterThan(0);
      },
    );
  });
});

/** `pulse_backlog_paused_total{source}`: how often pacing waited for the reader's buffer. */
async function pauses(server: ListeningServer, source: string): Promise<number> {
  const { values } = await server.node.metrics.backlogPausedTotal.get();
  return values.filter((v) => v.labels.source === source).reduce((total, v) => total + v.value, 0);
}
