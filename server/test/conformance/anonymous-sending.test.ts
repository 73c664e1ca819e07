/**
 * Anonymous connections on the wire (PROTOCOL.md "Anonymous connections",
 * issue 14) through the real server over real sockets, WebSocket and
 * WebTransport: a connection that says `hello` with `anonymous: true` never
 * authenticates, may only `sealed_send`, and has bounds of its own, each tried
 * past its limit: connections per address (beyond the unauthenticated cap,
 * which it does not use), idle time, sealed sends per connection and per address.
 */
import type { Frame, FrameOf } from '@pulse/proto';
import {
  dialWebSocket,
  dialWebTransport,
  FrameClient,
  ListeningServer,
  type OpenTransport,
  register,
} from '@pulse/testing';
import { createDevCertificate } from '@pulse/webtransport/node';
import { describe, expect, it, vi } from 'vitest';
import type { ServerLimits } from '../../src/core/limits/limits.ts';
import { withServer } from '../helpers/with-server.ts';

vi.setConfig({ testTimeout: 60_000 });

const certificate = await createDevCertificate();
const TOKEN = new Uint8Array(32).fill(2);
const outcome = (frame: Frame) => (frame.type === 'error' ? frame.code : frame.type);

const transports: [string, 'websocket' | 'webtransport', (server: ListeningServer) => OpenTransport][] = [
  ['WebSocket', 'websocket', (server) => dialWebSocket(server.websocketUrl)],
  ['WebTransport', 'webtransport', (server) => dialWebTransport(server.webtransportUrl, certificate.sha256)],
];

/** `hello` with `anonymous: true` on a new connection; the frame that answers it. */
async function anonymous(open: OpenTransport): Promise<{ client: FrameClient; answer: Frame }> {
  const client = await FrameClient.open(open);
  const answer = client.waitFor((frame) => frame.type === 'welcome' || frame.type === 'close', 'welcome or close');
  client.send({ type: 'hello', versions: [2], client: 'anonymous-test', anonymous: true });
  return { client, answer: await answer };
}

/** A server, and bob on it with a delivery token: whoever holds TOKEN may seal to him. */
function start(limits: Partial<ServerLimits>, heartbeat?: { interval: number; timeout: number }) {
  return ListeningServer.start({ certificate, limits, ...(heartbeat === undefined ? {} : { heartbeat }) });
}

async function bobOn(open: OpenTransport) {
  const bob = await register(open);
  expect(outcome(await bob.client.request({ type: 'set_delivery_token', id: 0, token: TOKEN }))).toBe('ok');
  const sealedSend = (length = 16): FrameOf<'sealed_send'> => ({
    type: 'sealed_send',
    id: 0,
    to: bob.account,
    deliveryToken: TOKEN,
    envelopes: [{ deviceId: bob.deviceId, payload: new Uint8Array(length).fill(7) }],
  });
  return { bob, sealedSend };
}

/** The value of one sample of the server's /metrics, 0 when absent. */
async function metric(server: ListeningServer, sample: string): Promise<number> {
  const text = await (await fetch(server.metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

for (const [name, transport, dial] of transports) {
  describe(`anonymous connections over ${name}`, () => {
    it('carry sealed sends from no account, accept nothing else, and are capped per address', async () => {
      await withServer(
        () => start({ maxAnonymousPerIp: 12 }), // above the 10 unauthenticated ones an address may hold
        async (server) => {
          const open = dial(server);
          const { bob, sealedSend } = await bobOn(open);
          const { client, answer } = await anonymous(open);
          expect(answer).toMatchObject({ type: 'welcome', anonymous: true });

          expect(outcome(await client.request(sealedSend()))).toBe('sent');
          expect(await bob.client.next('deliver')).toMatchObject({ sealed: true });
          const sealedSends = (connection: string) =>
            metric(server, `pulse_sealed_sends_total{transport="${transport}",connection="${connection}"}`);
          expect(await sealedSends('anonymous')).toBe(1);
          expect(await sealedSends('authenticated')).toBe(0);
          // It never becomes anyone's: authentication and every other request are refused.
          const auth = {
            type: 'auth',
            id: 0,
            account: bob.account,
            deviceId: 1,
            signature: new Uint8Array(64),
          } as const;
          expect(outcome(await client.request(auth))).toBe('AUTH_REQUIRED');
          expect(outcome(await client.request({ type: 'sender_certificate', id: 0 }))).toBe('AUTH_REQUIRED');

          // Twelve from this address, more than the 10 unauthenticated connections it may hold: anonymous
          // ones leave that budget at `welcome`. The thirteenth is refused.
          const more = [];
          for (let i = 1; i < 12; i++) more.push(await anonymous(open));
          expect(more.map(({ answer: a }) => a.type)).toEqual(Array(11).fill('welcome'));
          expect(await metric(server, `pulse_connections_anonymous{transport="${transport}"}`)).toBe(12);
          const refused = await anonymous(open);
          expect(refused.answer).toMatchObject({ type: 'close', code: 'SERVER_BUSY' });
          const limit = `pulse_limit_violations_total{transport="${transport}",limit="max_anonymous_per_ip"}`;
          expect(await metric(server, limit)).toBe(1);
          // The unauthenticated budget is still there for a device that wants to sign in.
          expect(outcome(await (await FrameClient.connect(open)).request(auth))).toBe('AUTH_FAILED');
        },
      );
    });

    it('are closed IDLE_TIMEOUT when no sealed send comes within anonymous_idle', async () => {
      await withServer(
        () => start({ anonymousIdle: 1_000 }, { interval: 300, timeout: 10_000 }),
        async (server) => {
          const { client, answer } = await anonymous(dial(server));
          expect(answer.type).toBe('welcome');
          // Answering the server's pings keeps the heartbeat happy, not the connection.
          const pong = setInterval(() => client.send({ type: 'ping', nonce: 1 }), 200);
          try {
            expect(await client.next('close', 15_000)).toMatchObject({ code: 'IDLE_TIMEOUT' });
          } finally {
            clearInterval(pong);
          }
          const limit = `pulse_limit_violations_total{transport="${transport}",limit="anonymous_idle"}`;
          expect(await metric(server, limit)).toBe(1);
          expect(await metric(server, `pulse_connections_anonymous{transport="${transport}"}`)).toBe(0);
        },
      );
    });

    it('refuse a flood of sealed sends per connection and per address, RATE_LIMITED with retryAfterMs', async () => {
      await withServer(
        () =>
          start({
            anonymousSendRate: 1,
            anonymousSendBurst: 3,
            anonymousSendRatePerIp: 1,
            anonymousSendBurstPerIp: 5,
          }),
        async (server) => {
          const open = dial(server);
          const { sealedSend } = await bobOn(open);
          const first = (await anonymous(open)).client;
          const second = (await anonymous(open)).client;
          const answers: Frame[] = [];
          for (let i = 0; i < 4; i++) answers.push(await first.request(sealedSend()));
          expect(answers.map(outcome)).toEqual(['sent', 'sent', 'sent', 'RATE_LIMITED']);
          expect((answers[3] as FrameOf<'error'>).retryAfterMs).toBeGreaterThan(0);
          // The address has 2 sends left of its 5, whichever connection asks.
          const more: string[] = [];
          for (let i = 0; i < 3; i++) more.push(outcome(await second.request(sealedSend())));
          expect(more).toEqual(['sent', 'sent', 'RATE_LIMITED']);
          const violations = (limit: string) =>
            metric(server, `pulse_limit_violations_total{transport="${transport}",limit="${limit}"}`);
          expect(await violations('anonymous_send_rate')).toBe(1);
          expect(await violations('anonymous_send_rate_per_ip')).toBe(1);
        },
      );
    });
  });
}
