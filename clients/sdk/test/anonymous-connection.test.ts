import { type Frame, FrameCodec, type FrameOf, type RequestFrame } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import { AnonymousConnection, answersTheEnvelopes } from '../src/anonymous-connection.ts';
import { clientLimits, PulseError, type TransportEvents } from '../src/index.ts';
import { until } from './helpers.ts';

/**
 * The anonymous connection's own life (anonymous-connection.ts), against a
 * scripted server on a direct transport: what it says in `hello`, what it does
 * when the server does not grant `anonymous`, pings, a server `close`, and its
 * idle close. The real server is in anonymous-sealed-sending.test.ts.
 */
const codec = new FrameCodec();

/** A scripted server: every transport opened, the frames each one sent, and a way to answer. */
function scriptedServer(answer: (frame: Frame, reply: (frame: Frame) => void) => void) {
  const opened: { sent: Frame[]; events: TransportEvents; closed: boolean }[] = [];
  const factories = {
    direct: {
      kind: 'websocket' as const,
      open: (events: TransportEvents) => {
        const transport = { sent: [] as Frame[], events, closed: false };
        opened.push(transport);
        const reply = (frame: Frame) => queueMicrotask(() => events.onFrame(codec.encode(frame)));
        return {
          kind: 'websocket' as const,
          send: (bytes: Uint8Array) => {
            const frame = codec.decode(bytes);
            transport.sent.push(frame);
            answer(frame, reply);
          },
          close: () => {
            if (transport.closed) return;
            transport.closed = true;
            queueMicrotask(() => events.onClose('closed'));
          },
        };
      },
    },
  };
  return { opened, factories };
}

const welcome = (anonymous: boolean): FrameOf<'welcome'> => ({
  type: 'welcome',
  version: 2,
  serverTime: 0,
  challenge: new Uint8Array(32),
  heartbeatMs: 15_000,
  maxFrameBytes: 1 << 20,
  ...(anonymous ? { anonymous: true as const } : {}),
});

const sealedSend: RequestFrame<'sealed_send'> = {
  type: 'sealed_send',
  to: 'bob',
  deliveryToken: new Uint8Array(32),
  envelopes: [{ deviceId: 1, payload: new Uint8Array(4) }],
};

/** A server that grants anonymous connections and answers each sealed send with `sent` (or `refuse`'s error). */
function grantingServer(refuse?: string) {
  return scriptedServer((frame, reply) => {
    if (frame.type === 'hello') reply(welcome(frame.anonymous === true));
    if (frame.type === 'sealed_send') {
      reply(
        refuse === undefined
          ? { type: 'sent', id: frame.id, envelopeIds: ['1'], serverTime: 0 }
          : { type: 'error', id: frame.id, code: refuse, message: 'refused' },
      );
    }
  });
}

function connection(factories: ReturnType<typeof scriptedServer>['factories'], limits = {}) {
  return new AnonymousConnection({
    server: 'http://pulse.test',
    transport: 'auto',
    factories,
    limits: clientLimits({ anonymousIdleMs: 60_000, ...limits }),
    clientName: 'test',
  });
}

describe('the anonymous connection', () => {
  it('says hello with anonymous: true, never authenticates, and sends sealed_send only', async () => {
    const server = grantingServer();
    const anonymous = connection(server.factories);
    expect(await anonymous.sealedSend(sealedSend)).toMatchObject({ type: 'sent' });
    expect(await anonymous.sealedSend(sealedSend)).toMatchObject({ type: 'sent' });
    expect(server.opened).toHaveLength(1);
    expect(server.opened[0]!.sent.map((f) => f.type)).toEqual(['hello', 'sealed_send', 'sealed_send']);
    expect(server.opened[0]!.sent[0]).toMatchObject({ type: 'hello', anonymous: true });
    anonymous.close();
  });

  it('answers the server’s ping and stays open', async () => {
    const server = grantingServer();
    const anonymous = connection(server.factories);
    await anonymous.sealedSend(sealedSend);
    server.opened[0]!.events.onFrame(codec.encode({ type: 'ping', nonce: 9 }));
    expect(server.opened[0]!.sent.at(-1)).toEqual({ type: 'pong', nonce: 9 });
    await anonymous.sealedSend(sealedSend);
    expect(server.opened).toHaveLength(1);
    anonymous.close();
  });

  it('refuses a server that does not grant anonymous, and rests for anonymousRetryMs', async () => {
    let now = 1_000;
    const server = grantingServer();
    const old = scriptedServer((frame, reply) => {
      if (frame.type === 'hello') reply(welcome(false));
    });
    const anonymous = new AnonymousConnection({
      server: 'http://pulse.test',
      transport: 'auto',
      factories: old.factories,
      limits: clientLimits({ anonymousRetryMs: 5_000 }),
      clientName: 'test',
      now: () => now,
    });
    const refused = await anonymous.sealedSend(sealedSend).catch((error: unknown) => error);
    expect(PulseError.is(refused, 'NOT_SUPPORTED')).toBe(true);
    expect(answersTheEnvelopes(refused)).toBe(false);
    expect(old.opened[0]!.closed).toBe(true);
    expect(anonymous.usable).toBe(false);
    now += 5_000;
    expect(anonymous.usable).toBe(true);
    expect(server.opened).toHaveLength(0);
    anonymous.close();
  });

  it('hands refusals of the envelopes to the caller and stays usable', async () => {
    const server = grantingServer('UNAUTHORIZED');
    const anonymous = connection(server.factories);
    const refused = await anonymous.sealedSend(sealedSend).catch((error: unknown) => error);
    expect(PulseError.is(refused, 'UNAUTHORIZED')).toBe(true);
    expect(answersTheEnvelopes(refused)).toBe(true);
    expect(anonymous.usable).toBe(true);
    expect(server.opened[0]!.closed).toBe(false);
    anonymous.close();
  });

  it('replaces a connection that had worked and closed under a send, once, and stays usable', async () => {
    let sends = 0;
    const server = scriptedServer((frame, reply) => {
      if (frame.type === 'hello') reply(welcome(true));
      if (frame.type === 'sealed_send') {
        sends++;
        if (sends === 2) reply({ type: 'close', code: 'IDLE_TIMEOUT', reason: 'idle' });
        else reply({ type: 'sent', id: frame.id, envelopeIds: [String(sends)], serverTime: 0 });
      }
    });
    const anonymous = connection(server.factories);
    expect(await anonymous.sealedSend(sealedSend)).toMatchObject({ envelopeIds: ['1'] });
    expect(await anonymous.sealedSend(sealedSend)).toMatchObject({ envelopeIds: ['3'] });
    expect(server.opened).toHaveLength(2);
    expect(server.opened[0]!.closed).toBe(true);
    expect(anonymous.usable).toBe(true);
    anonymous.close();
  });

  it('gives up on a new connection the server closes before answering, and rests', async () => {
    const server = scriptedServer((frame, reply) => {
      if (frame.type === 'hello') reply(welcome(true));
      if (frame.type === 'sealed_send') reply({ type: 'close', code: 'SERVER_BUSY', reason: 'busy' });
    });
    const anonymous = connection(server.factories);
    const failed = await anonymous.sealedSend(sealedSend).catch((error: unknown) => error);
    expect(PulseError.is(failed, 'SERVER_BUSY')).toBe(true);
    expect(server.opened).toHaveLength(1);
    expect(anonymous.usable).toBe(false);
    anonymous.close();
  });

  it('waits out its own RATE_LIMITED on the same connection rather than leave it', async () => {
    let sends = 0;
    const server = scriptedServer((frame, reply) => {
      if (frame.type === 'hello') reply(welcome(true));
      if (frame.type === 'sealed_send') {
        sends++;
        if (sends < 3) reply({ type: 'error', id: frame.id, code: 'RATE_LIMITED', message: 'slow', retryAfterMs: 5 });
        else reply({ type: 'sent', id: frame.id, envelopeIds: ['1'], serverTime: 0 });
      }
    });
    const anonymous = connection(server.factories);
    expect(await anonymous.sealedSend(sealedSend)).toMatchObject({ type: 'sent' });
    expect(sends).toBe(3);
    expect(server.opened).toHaveLength(1);
    expect(anonymous.usable).toBe(true);
    anonymous.close();
  });

  it('gives up on a RATE_LIMITED it would wait too long for', async () => {
    const server = scriptedServer((frame, reply) => {
      if (frame.type === 'hello') reply(welcome(true));
      if (frame.type === 'sealed_send') {
        reply({ type: 'error', id: frame.id, code: 'RATE_LIMITED', message: 'slow', retryAfterMs: 60_000 });
      }
    });
    const anonymous = connection(server.factories);
    const failed = await anonymous.sealedSend(sealedSend).catch((error: unknown) => error);
    expect(PulseError.is(failed, 'RATE_LIMITED')).toBe(true);
    expect(anonymous.usable).toBe(false);
    anonymous.close();
  });

  it('closes once idle for anonymousIdleMs, and opens again when needed', async () => {
    const server = grantingServer();
    const anonymous = connection(server.factories, { anonymousIdleMs: 20 });
    await anonymous.sealedSend(sealedSend);
    await until(() => server.opened[0]!.closed, 'the idle close');
    await anonymous.sealedSend(sealedSend);
    expect(server.opened).toHaveLength(2);
    anonymous.close();
    await until(() => server.opened[1]!.closed, 'the close');
  });
});
