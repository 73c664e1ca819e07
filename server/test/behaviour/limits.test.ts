import { generateIdentityKeyPair } from '@pulse/crypto';
import { authSignedMessage } from '@pulse/proto';
import { FrameClient, InProcessServer, type InProcessServerOptions, register } from '@pulse/testing';
import { describe, expect, it } from 'vitest';
import { bytes, expectClose } from '../helpers/assertions.ts';
import { withServer } from '../helpers/with-server.ts';

/** An in-process server started with `options`, stopped after `body`. */
const withInProcess = (options: InProcessServerOptions, body: (server: InProcessServer) => Promise<void>) =>
  withServer(() => InProcessServer.start(options), body);

/** Limits the core keeps (connection limits, flooding, slow consumers: the conformance suite, every way in). */
describe('limits', () => {
  it('refuses payloads above max_message_size (PAYLOAD_TOO_LARGE)', async () => {
    await withInProcess({ limits: { maxMessageSize: 1000 } }, async (server) => {
      const a = await register(server.dial());
      const big = await a.client.request({ type: 'publish', id: 0, channel: 'public:x', payload: bytes(1001) });
      expect(big).toMatchObject({ type: 'error', code: 'PAYLOAD_TOO_LARGE' });
      const send = await a.client.request({
        type: 'send',
        id: 0,
        to: a.account,
        envelopes: [{ deviceId: 1, payload: bytes(1001) }],
      });
      expect(send).toMatchObject({ type: 'error', code: 'PAYLOAD_TOO_LARGE' });
    });
  });

  it('rate-limits frames per connection: one RATE_LIMITED (retryAfterMs, no id) per refusal burst', async () => {
    let now = Date.now();
    await withInProcess({ limits: { rate: 1, rateBurst: 5 }, now: () => now }, async (server) => {
      const client = await FrameClient.connect(server.dial()); // hello used one token
      const violations = async (limit: string) =>
        (await server.node.metrics.limitViolations.get()).values.find((v) => v.labels.limit === limit)?.value ?? 0;
      for (let id = 1; id <= 6; id++) client.send({ type: 'sync', id });
      // The server has seen all six once two were refused; then, the bucket refilled, a ping is answered
      // after every frame before it (frames are handled in order).
      while ((await violations('rate')) < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await violations('rate_unanswered')).toBe(1);
      now += 10_000;
      await client.exchange({ type: 'ping', nonce: 1 }, 'pong');
      const answers = client.inbox.splice(0);
      // Four fitted the bucket (AUTH_REQUIRED: the connection is not authenticated); of the two refused,
      // the first is answered without an id (a refused frame is not decoded), the second dropped.
      expect(
        answers.filter((a) => a.type === 'error' && a.code === 'AUTH_REQUIRED').map((a) => 'id' in a && a.id),
      ).toEqual([1, 2, 3, 4]);
      const limited = answers.filter((a) => a.type === 'error' && a.code === 'RATE_LIMITED');
      expect(limited).toHaveLength(1);
      expect(limited[0]).not.toHaveProperty('id');
      expect((limited[0] as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
      expect(client.isClosed).toBe(false);
    });
  });

  it('limits authentication attempts per address (AUTH_RATE_LIMITED)', async () => {
    await withInProcess({ limits: { authAttempts: 3 } }, async (server) => {
      const client = await FrameClient.connect(server.dial());
      const key = generateIdentityKeyPair();
      const answers = [];
      for (let i = 0; i < 4; i++) {
        answers.push(
          await client.request({
            type: 'auth',
            id: 0,
            account: 'someone',
            deviceId: 1,
            signature: key.sign(authSignedMessage(client.challenge, 'someone', 1)),
          }),
        );
      }
      expect(answers.slice(0, 3).every((a) => a.type === 'error' && a.code === 'AUTH_FAILED')).toBe(true);
      expect(answers[3]).toMatchObject({ type: 'error', code: 'AUTH_RATE_LIMITED' });
    });
  });

  it('closes a connection that does not authenticate within the heartbeat timeout (AUTH_REQUIRED)', async () => {
    let now = Date.now();
    await withInProcess({ heartbeat: { interval: 100, timeout: 300 }, now: () => now }, async (server) => {
      const client = await FrameClient.connect(server.dial());
      // Answering pings keeps it alive, but not unauthenticated forever.
      now += 300;
      await client.exchange({ type: 'ping', nonce: 1 }, 'pong');
      server.node.tick();
      expect(client.isClosed).toBe(false);
      now += 1;
      server.node.tick();
      await expectClose(client, 'AUTH_REQUIRED');
    });
  });

  it('pings an idle connection and closes a silent one (HEARTBEAT_TIMEOUT), removing its presence', async () => {
    let now = Date.now();
    await withInProcess({ heartbeat: { interval: 100, timeout: 300 }, now: () => now }, async (server) => {
      const watcher = await register(server.dial());
      const silent = await register(server.dial());
      await watcher.client.expect({ type: 'subscribe', id: 0, channel: 'public:hb', presence: true }, 'subscribed');
      await silent.client.expect({ type: 'subscribe', id: 0, channel: 'public:hb' }, 'subscribed');
      now += 100;
      server.node.tick();
      // Both are pinged once; the watcher answers, the silent one never does.
      expect(await silent.client.next('ping')).toMatchObject({ type: 'ping' });
      const ping = await watcher.client.next('ping');
      watcher.client.send({ type: 'pong', nonce: ping.nonce });
      // The answer to our own ping proves the pong was received first.
      await watcher.client.exchange({ type: 'ping', nonce: 1 }, 'pong');
      now += 201;
      server.node.tick();
      await expectClose(silent.client, 'HEARTBEAT_TIMEOUT');
      const leave = await watcher.client.next('presence_leave');
      expect(leave.member.account).toBe(silent.account);
      expect(watcher.client.isClosed).toBe(false);
      const heartbeats = await server.node.metrics.limitViolations.get();
      expect(heartbeats.values.find((v) => v.labels.limit === 'heartbeat')?.value).toBe(1);
    });
  });
});
