import { authSignedMessage, type FrameOf, PROTOCOL_VERSIONS, registerSignedMessage } from '@pulse/proto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Authenticator, Greeting, type HandshakeSession } from '../src/connection/handshake.ts';
import type { Answer, RequestFrame, RequestType } from '../src/connection/requests.ts';
import { PulseError } from '../src/errors.ts';

const welcome: FrameOf<'welcome'> = {
  type: 'welcome',
  version: 2,
  serverTime: 0,
  challenge: new Uint8Array(32).fill(7),
  heartbeatMs: 20_000,
  maxFrameBytes: 1 << 20,
};

const accountKey = new Uint8Array(33).fill(6);
const signer = { identityKey: new Uint8Array(33).fill(5), sign: (message: Uint8Array) => message.subarray(0, 64) };

/** A session whose server answers with `answer` (a frame or an error to throw), recording each request. */
function session(answer: (frame: RequestFrame<RequestType>) => unknown) {
  const requests: RequestFrame<RequestType>[] = [];
  const s: HandshakeSession = {
    welcome,
    transport: 'websocket',
    request: async <T extends RequestType>(frame: RequestFrame<T>) => {
      requests.push(frame as RequestFrame<RequestType>);
      const result = answer(frame as RequestFrame<RequestType>);
      if (result instanceof Error) throw result;
      return result as Answer<T>;
    },
    closed: new Promise<never>(() => {}),
  };
  return { session: s, requests };
}

function authOk(expiresAt: number): FrameOf<'auth_ok'> {
  return {
    type: 'auth_ok',
    id: 1,
    account: 'alice',
    deviceId: 1,
    token: Uint8Array.of(1, 2, 3),
    tokenExpiresAt: expiresAt,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Greeting (hello → welcome)', () => {
  it('sends hello with every protocol version and the client name, and resolves with the welcome', async () => {
    const greeting = new Greeting();
    const sent: FrameOf<'hello'>[] = [];
    const greeted = greeting.start((hello) => sent.push(hello), 'test/1', 1_000);
    expect(sent).toEqual([{ type: 'hello', versions: [...PROTOCOL_VERSIONS], client: 'test/1' }]);
    greeting.welcome(welcome);
    await expect(greeted).resolves.toBe(welcome);
    expect(greeting.fail(new Error('late'))).toBe(false);
  });

  it('rejects with what the server said instead, or TIMEOUT when it says nothing', async () => {
    vi.useFakeTimers();
    const greeting = new Greeting();
    const refused = greeting.start(() => {}, 'test/1', 1_000);
    expect(greeting.fail(new PulseError('PROTO_NO_COMMON_VERSION', 'no'))).toBe(true);
    await expect(refused).rejects.toSatisfy((e) => PulseError.is(e, 'PROTO_NO_COMMON_VERSION'));
    const silent = greeting.start(() => {}, 'test/1', 1_000);
    const outcome = expect(silent).rejects.toSatisfy((e) => PulseError.is(e, 'TIMEOUT'));
    vi.advanceTimersByTime(1_000);
    await outcome;
    expect(greeting.fail(new Error('after the timeout'))).toBe(false);
  });
});

describe('Authenticator', () => {
  it('registers with a signature over the challenge, then reconnects with the token it got', async () => {
    const auth = new Authenticator(signer);
    const { session: s, requests } = session(() => authOk(Date.now() + 3_600_000));
    const deviceList = { version: 1, devices: [], signature: new Uint8Array(64) };
    await auth.register(s, 'alice', 'laptop', accountKey, deviceList);
    await auth.authenticate(s, 'alice', 1);
    expect(requests).toEqual([
      {
        type: 'register',
        account: 'alice',
        deviceName: 'laptop',
        identityKey: signer.identityKey,
        signature: registerSignedMessage(welcome.challenge, 'alice', signer.identityKey).subarray(0, 64),
        accountKey,
        deviceList,
      },
      { type: 'auth_token', token: Uint8Array.of(1, 2, 3) },
    ]);
  });

  it('signs the challenge when it has no token, or the token expires within a minute', async () => {
    const signed = {
      type: 'auth',
      account: 'alice',
      deviceId: 2,
      signature: authSignedMessage(welcome.challenge, 'alice', 2).subarray(0, 64),
    };
    const fresh = new Authenticator(signer);
    const first = session(() => authOk(Date.now() + 30_000));
    await fresh.authenticate(first.session, 'alice', 2);
    expect(first.requests).toEqual([signed]);
    const second = session(() => authOk(Date.now() + 3_600_000));
    await fresh.authenticate(second.session, 'alice', 2); // the token from the first expires too soon
    expect(second.requests).toEqual([signed]);
  });

  it('falls back to a signature when the server refuses the token, and passes other errors on', async () => {
    const auth = new Authenticator(signer);
    await auth.authenticate(session(() => authOk(Date.now() + 3_600_000)).session, 'alice', 1);
    const refused = session((frame) =>
      frame.type === 'auth_token' ? new PulseError('AUTH_FAILED', 'expired') : authOk(Date.now() + 3_600_000),
    );
    await auth.authenticate(refused.session, 'alice', 1);
    expect(refused.requests.map((r) => r.type)).toEqual(['auth_token', 'auth']);
    const limited = session(() => new PulseError('AUTH_RATE_LIMITED', 'slow down'));
    await expect(auth.authenticate(limited.session, 'alice', 1)).rejects.toSatisfy((e) =>
      PulseError.is(e, 'AUTH_RATE_LIMITED'),
    );
  });
});
