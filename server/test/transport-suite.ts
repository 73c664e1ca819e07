import { randomBytes } from 'node:crypto';
import { generateIdentityKeyPair } from '@pulse/crypto';
import { authSignedMessage, type Frame, registerSignedMessage } from '@pulse/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Device,
  type Dial,
  linkDevice,
  reconnect,
  register,
  TestClient,
  testCodec,
  uniqueAccount,
} from './helpers/client.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

/** How a transport is dialled once a server runs. */
export type MakeDial = (server: TestServer) => Dial;

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

async function expectClose(client: TestClient, code: string): Promise<void> {
  const close = await client.next('close');
  expect(close.code).toBe(code);
  await client.link.closed;
}

/**
 * The ONE transport suite: every behaviour a client sees, through a real server
 * on real sockets, run once per transport (websocket.test.ts, webtransport.test.ts).
 */
export function transportSuite(
  transport: 'websocket' | 'webtransport',
  makeDial: MakeDial,
  serverOptions: Parameters<typeof startTestServer>[1] = {},
): void {
  const start = (overrides: Parameters<typeof startTestServer>[0] = {}) => startTestServer(overrides, serverOptions);
  /** Runs `body` against a server started with `overrides`, and always stops it. */
  const withServer = async (
    overrides: Parameters<typeof startTestServer>[0],
    body: (server: Awaited<ReturnType<typeof start>>) => Promise<void>,
  ): Promise<void> => {
    const server = await start(overrides);
    try {
      await body(server);
    } finally {
      await server.stop();
    }
  };

  describe(`${transport}: handshake and authentication`, () => {
    let server: TestServer;
    let dial: Dial;
    beforeAll(async () => {
      server = await start();
      dial = makeDial(server);
    });
    afterAll(() => server.stop());

    it('answers hello with welcome and a fresh 32-byte challenge per connection', async () => {
      const a = await TestClient.open(dial);
      const b = await TestClient.open(dial);
      expect(a.challenge.length).toBe(32);
      expect(Buffer.from(a.challenge).equals(Buffer.from(b.challenge))).toBe(false);
      a.close();
      b.close();
    });

    it('closes with PROTO_NO_COMMON_VERSION when no version is shared', async () => {
      const client = new TestClient(await dial());
      client.send({ type: 'hello', versions: [99], client: 'future' });
      await expectClose(client, 'PROTO_NO_COMMON_VERSION');
    });

    it('refuses requests before authentication with AUTH_REQUIRED and keeps the connection', async () => {
      const client = await TestClient.open(dial);
      const answer = await client.request({ type: 'sync', id: 0 });
      expect(answer).toMatchObject({ type: 'error', code: 'AUTH_REQUIRED' });
      const pong = await client.exchange({ type: 'ping', nonce: 5 }, 'pong');
      expect(pong.nonce).toBe(5);
      client.close();
    });

    it('registers, then authenticates a new connection by signature', async () => {
      const device = await register(dial);
      expect(device.deviceId).toBe(1);
      await reconnect(dial, device);
      const devices = await device.client.expect({ type: 'device_list', id: 0 }, 'devices');
      expect(devices.devices.map((d) => d.deviceId)).toEqual([1]);
    });

    it('refuses a taken account name with ACCOUNT_EXISTS', async () => {
      const device = await register(dial);
      const identity = generateIdentityKeyPair();
      const client = await TestClient.open(dial);
      const answer = await client.request({
        type: 'register',
        id: 0,
        account: device.account,
        deviceName: 'x',
        identityKey: identity.publicKey,
        signature: identity.sign(registerSignedMessage(client.challenge, device.account, identity.publicKey)),
      });
      expect(answer).toMatchObject({ type: 'error', code: 'ACCOUNT_EXISTS' });
    });

    it('refuses a replayed auth signature (another connection, another challenge)', async () => {
      const device = await register(dial);
      const first = await TestClient.open(dial);
      const signature = device.identity.sign(authSignedMessage(first.challenge, device.account, 1));
      await first.expect({ type: 'auth', id: 0, account: device.account, deviceId: 1, signature }, 'auth_ok');
      const second = await TestClient.open(dial);
      const replay = await second.request({ type: 'auth', id: 0, account: device.account, deviceId: 1, signature });
      expect(replay).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    });

    it('refuses foreign signatures, signatures for another device, and register signatures used for auth', async () => {
      const device = await register(dial);
      const mallory = generateIdentityKeyPair();
      const client = await TestClient.open(dial);
      const forged = await client.request({
        type: 'auth',
        id: 0,
        account: device.account,
        deviceId: 1,
        signature: mallory.sign(authSignedMessage(client.challenge, device.account, 1)),
      });
      expect(forged).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
      const otherDevice = await client.request({
        type: 'auth',
        id: 0,
        account: device.account,
        deviceId: 1,
        signature: device.identity.sign(authSignedMessage(client.challenge, device.account, 2)),
      });
      expect(otherDevice).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
      const wrongContext = await client.request({
        type: 'auth',
        id: 0,
        account: device.account,
        deviceId: 1,
        signature: device.identity.sign(
          registerSignedMessage(client.challenge, device.account, device.identity.publicKey),
        ),
      });
      expect(wrongContext).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
      const unknown = await client.request({
        type: 'auth',
        id: 0,
        account: 'nobody-here',
        deviceId: 1,
        signature: device.identity.sign(authSignedMessage(client.challenge, 'nobody-here', 1)),
      });
      expect(unknown).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    });

    it('refuses a register whose signature is not by the registered key', async () => {
      const client = await TestClient.open(dial);
      const key = generateIdentityKeyPair();
      const other = generateIdentityKeyPair();
      const account = uniqueAccount();
      const answer = await client.request({
        type: 'register',
        id: 0,
        account,
        deviceName: 'x',
        identityKey: key.publicKey,
        signature: other.sign(registerSignedMessage(client.challenge, account, key.publicKey)),
      });
      expect(answer).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    });

    it('accepts the access token on reconnect and refuses a forged one', async () => {
      const device = await register(dial);
      const client = await TestClient.open(dial);
      const signature = device.identity.sign(authSignedMessage(client.challenge, device.account, 1));
      const ok = await client.expect(
        { type: 'auth', id: 0, account: device.account, deviceId: 1, signature },
        'auth_ok',
      );
      const again = await TestClient.open(dial);
      const viaToken = await again.expect({ type: 'auth_token', id: 0, token: ok.token }, 'auth_ok');
      expect(viaToken).toMatchObject({ account: device.account, deviceId: 1 });
      const forged = ok.token.slice();
      forged[forged.length - 1]! ^= 1;
      const third = await TestClient.open(dial);
      const refused = await third.request({ type: 'auth_token', id: 0, token: forged });
      expect(refused).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    });
  });

  describe(`${transport}: devices`, () => {
    let server: TestServer;
    let dial: Dial;
    beforeAll(async () => {
      server = await start();
      dial = makeDial(server);
    });
    afterAll(() => server.stop());

    it('links a second device, lists and removes it', async () => {
      const first = await register(dial);
      const second = await linkDevice(dial, first);
      expect(second.deviceId).toBe(2);
      const list = await first.client.expect({ type: 'device_list', id: 0 }, 'devices');
      expect(list.devices.map((d) => d.deviceId)).toEqual([1, 2]);
      await first.client.expect({ type: 'device_remove', id: 0, deviceId: 2 }, 'ok');
      await expectClose(second.client, 'AUTH_FAILED');
      const after = await first.client.expect({ type: 'device_list', id: 0 }, 'devices');
      expect(after.devices.map((d) => d.deviceId)).toEqual([1]);
      const last = await first.client.request({ type: 'device_remove', id: 0, deviceId: 1 });
      expect(last).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    });

    it('refuses a link whose signature is not by the new key, and a replayed link', async () => {
      const first = await register(dial);
      const newKey = generateIdentityKeyPair();
      const { deviceLinkSignedMessage } = await import('@pulse/proto');
      const bad = await first.client.request({
        type: 'device_link',
        id: 0,
        deviceName: 'x',
        identityKey: newKey.publicKey,
        signature: first.identity.sign(
          deviceLinkSignedMessage(first.client.challenge, first.account, newKey.publicKey),
        ),
      });
      expect(bad).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
      const link: Frame = {
        type: 'device_link',
        id: 0,
        deviceName: 'x',
        identityKey: newKey.publicKey,
        signature: newKey.sign(deviceLinkSignedMessage(first.client.challenge, first.account, newKey.publicKey)),
      };
      await first.client.expect(link, 'device_linked');
      expect(await first.client.request(link)).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    });

    it('a newer connection of the same device replaces the older one', async () => {
      const device = await register(dial);
      const old = device.client;
      await reconnect(dial, device);
      await expectClose(old, 'SESSION_REPLACED');
    });
  });

  describe(`${transport}: envelopes`, () => {
    let server: TestServer;
    let dial: Dial;
    beforeAll(async () => {
      server = await start({ limits: { queuePerDevice: 5 } });
      dial = makeDial(server);
    });
    afterAll(() => server.stop());

    it('delivers at once to an online device, in order, and acknowledges only with ids', async () => {
      const alice = await register(dial);
      const bob = await register(dial);
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const sent = await alice.client.expect(
          { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(10, i) }] },
          'sent',
        );
        ids.push(...sent.envelopeIds);
      }
      const delivered = [];
      for (let i = 0; i < 4; i++) delivered.push(await bob.client.next('deliver'));
      expect(delivered.map((d) => d.envelopeId)).toEqual(ids);
      expect(delivered.map((d) => d.payload[0])).toEqual([0, 1, 2, 3]);
      expect(delivered[0]!.from).toEqual({ account: alice.account, deviceId: 1 });
      bob.client.send({ type: 'deliver_ack', envelopeIds: ids });
    });

    it('stores for an offline device and delivers on reconnect; unacknowledged ones come again (at least once)', async () => {
      const alice = await register(dial);
      const bob = await register(dial);
      bob.client.close();
      await bob.client.link.closed;
      const sent = await alice.client.expect(
        { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(3, 1) }] },
        'sent',
      );
      const sent2 = await alice.client.expect(
        { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(3, 2) }] },
        'sent',
      );
      await reconnect(dial, bob);
      const first = await bob.client.next('deliver');
      const second = await bob.client.next('deliver');
      expect([first.envelopeId, second.envelopeId]).toEqual([...sent.envelopeIds, ...sent2.envelopeIds]);
      bob.client.send({ type: 'deliver_ack', envelopeIds: [first.envelopeId] });
      // Only the acknowledged one is gone: sync redelivers the other.
      const done = await bob.client.expect({ type: 'sync', id: 0 }, 'sync_done');
      expect(done.delivered).toBe(1);
      const again = await bob.client.next('deliver');
      expect(again.envelopeId).toBe(second.envelopeId);
      bob.client.send({ type: 'deliver_ack', envelopeIds: [second.envelopeId] });
      // Frames are handled in order: the pong proves the ack was processed before we leave.
      await bob.client.exchange({ type: 'ping', nonce: 1 }, 'pong');
      bob.client.close();
      await bob.client.link.closed;
      await reconnect(dial, bob);
      const empty = await bob.client.expect({ type: 'sync', id: 0 }, 'sync_done');
      expect(empty.delivered).toBe(0);
    });

    it('sends to the own account address the other devices only', async () => {
      const first = await register(dial);
      const second = await linkDevice(dial, first);
      const mismatch = await first.client.request({
        type: 'send',
        id: 0,
        to: first.account,
        envelopes: [
          { deviceId: 1, payload: bytes(1) },
          { deviceId: 2, payload: bytes(1) },
        ],
      });
      expect(mismatch).toMatchObject({ type: 'error', code: 'DEVICES_MISMATCH' });
      await first.client.expect(
        { type: 'send', id: 0, to: first.account, envelopes: [{ deviceId: 2, payload: bytes(1, 9) }] },
        'sent',
      );
      const got = await second.client.next('deliver');
      expect(got.from).toEqual({ account: first.account, deviceId: 1 });
    });

    it('refuses envelopes that do not address exactly the devices (DEVICES_MISMATCH) or an unknown account', async () => {
      const alice = await register(dial);
      const bob = await register(dial);
      const wrong = await alice.client.request({
        type: 'send',
        id: 0,
        to: bob.account,
        envelopes: [{ deviceId: 7, payload: bytes(1) }],
      });
      expect(wrong).toMatchObject({ type: 'error', code: 'DEVICES_MISMATCH' });
      const unknown = await alice.client.request({
        type: 'send',
        id: 0,
        to: 'no-such-account',
        envelopes: [{ deviceId: 1, payload: bytes(1) }],
      });
      expect(unknown).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    });

    it('expires undelivered envelopes after the TTL and tells the online sender (ENVELOPE_EXPIRED)', async () => {
      const short = await startTestServer({ limits: { envelopeTtl: 150 } }, { ...serverOptions, purgeIntervalMs: 25 });
      try {
        const shortDial = makeDial(short);
        const alice = await register(shortDial);
        const bob = await register(shortDial);
        bob.client.close();
        await bob.client.link.closed;
        const sent = await alice.client.expect(
          { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(1) }] },
          'sent',
        );
        const notice = await alice.client.next('error');
        expect(notice).toMatchObject({ code: 'ENVELOPE_EXPIRED' });
        expect(notice.id).toBeUndefined();
        expect(notice.message).toContain(`${sent.envelopeIds[0]} (to ${bob.account}/1)`);
        await reconnect(shortDial, bob);
        expect((await bob.client.expect({ type: 'sync', id: 0 }, 'sync_done')).delivered).toBe(0);
      } finally {
        await short.stop();
      }
    });

    it('keeps at most delivery_window envelopes in flight and refills on ack', async () => {
      const windowed = await startTestServer({ limits: { deliveryWindow: 3 } }, serverOptions);
      try {
        const wdial = makeDial(windowed);
        const alice = await register(wdial);
        const bob = await register(wdial);
        bob.client.close();
        await bob.client.link.closed;
        for (let i = 0; i < 5; i++) {
          await alice.client.expect(
            { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(1, i) }] },
            'sent',
          );
        }
        await reconnect(wdial, bob);
        await bob.client.exchange({ type: 'ping', nonce: 1 }, 'pong');
        const first = bob.client.inbox.filter((f) => f.type === 'deliver');
        expect(first.map((f) => (f.type === 'deliver' ? f.payload[0] : -1))).toEqual([0, 1, 2]);
        bob.client.inbox.length = 0;
        bob.client.send({
          type: 'deliver_ack',
          envelopeIds: [first[0]!.type === 'deliver' ? first[0]!.envelopeId : ''],
        });
        const next = await bob.client.next('deliver');
        expect(next.payload[0]).toBe(3);
        await bob.client.exchange({ type: 'ping', nonce: 2 }, 'pong');
        expect(bob.client.inbox.filter((f) => f.type === 'deliver')).toHaveLength(0);
      } finally {
        await windowed.stop();
      }
    });

    it('refuses beyond the per-device queue with QUEUE_FULL', async () => {
      const alice = await register(dial);
      const bob = await register(dial);
      bob.client.close();
      await bob.client.link.closed;
      for (let i = 0; i < 5; i++) {
        await alice.client.expect(
          { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: bytes(1) }] },
          'sent',
        );
      }
      const full = await alice.client.request({
        type: 'send',
        id: 0,
        to: bob.account,
        envelopes: [{ deviceId: 1, payload: bytes(1) }],
      });
      expect(full).toMatchObject({ type: 'error', code: 'QUEUE_FULL' });
    });
  });

  describe(`${transport}: prekeys`, () => {
    let server: TestServer;
    let dial: Dial;
    beforeAll(async () => {
      server = await start({ limits: { prekeysLowThreshold: 2, prekeyFetches: 5 } });
      dial = makeDial(server);
    });
    afterAll(() => server.stop());

    const upload = (device: Device) => {
      const sign = (k: Uint8Array) => device.identity.sign(k);
      const key = (n: number) => generateIdentityKeyPair().publicKey.map((b, i) => (i === 0 ? b : b ^ n));
      const signed = (keyId: number) => {
        const publicKey = key(keyId);
        return { keyId, publicKey, signature: sign(publicKey) };
      };
      return {
        type: 'prekeys_upload' as const,
        id: 0,
        signedPreKey: signed(1),
        pqLastResortPreKey: signed(2),
        oneTimePreKeys: [10, 11, 12].map((keyId) => ({ keyId, publicKey: key(keyId) })),
        pqOneTimePreKeys: [20, 21].map(signed),
      };
    };

    it('checks signatures on upload (BAD_SIGNATURE)', async () => {
      const device = await register(dial);
      const frame = upload(device);
      frame.signedPreKey.signature = generateIdentityKeyPair().sign(frame.signedPreKey.publicKey);
      expect(await device.client.request(frame)).toMatchObject({ type: 'error', code: 'BAD_SIGNATURE' });
    });

    it('hands each one-time prekey out once, then the last-resort key, and warns the owner', async () => {
      const owner = await register(dial);
      const fetcher = await register(dial);
      // A fresh device has no prekeys: it is told so right after authenticating.
      expect(await owner.client.next('prekeys_low')).toMatchObject({ oneTimePreKeys: 0, pqOneTimePreKeys: 0 });
      await owner.client.expect(upload(owner), 'ok');
      const taken: number[] = [];
      const pq: number[] = [];
      for (let i = 0; i < 4; i++) {
        const answer = await fetcher.client.expect({ type: 'bundle_fetch', id: 0, account: owner.account }, 'bundles');
        expect(answer.bundles).toHaveLength(1);
        const bundle = answer.bundles[0]!;
        if (bundle.oneTimePreKey) taken.push(bundle.oneTimePreKey.keyId);
        pq.push(bundle.pqPreKey.keyId);
        expect(bundle.pqPreKeyIsLastResort).toBe(bundle.pqPreKey.keyId === 2);
      }
      expect(taken).toEqual([10, 11, 12]);
      expect(pq).toEqual([20, 21, 2, 2]);
      // After the first fetch 2 one-time and 1 PQ key remain: below the threshold of 2.
      expect(await owner.client.next('prekeys_low')).toMatchObject({ oneTimePreKeys: 2, pqOneTimePreKeys: 1 });
      // Told again on the next connection, with what remains.
      await reconnect(dial, owner);
      expect(await owner.client.next('prekeys_low')).toMatchObject({ oneTimePreKeys: 0, pqOneTimePreKeys: 0 });
    });

    it('answers PREKEYS_EXHAUSTED for an account that uploaded no prekeys, NOT_FOUND for no account', async () => {
      const owner = await register(dial);
      const fetcher = await register(dial);
      const none = await fetcher.client.request({ type: 'bundle_fetch', id: 0, account: owner.account });
      expect(none).toMatchObject({ type: 'error', code: 'PREKEYS_EXHAUSTED' });
      const missing = await fetcher.client.request({ type: 'bundle_fetch', id: 0, account: 'nobody-here' });
      expect(missing).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
      // Once the owner uploads, the same fetch succeeds.
      await owner.client.expect(upload(owner), 'ok');
      await fetcher.client.expect({ type: 'bundle_fetch', id: 0, account: owner.account }, 'bundles');
    });

    it('rate-limits fetches per requester (RATE_LIMITED)', async () => {
      const owner = await register(dial);
      await owner.client.expect(upload(owner), 'ok');
      const fetcher = await register(dial);
      const answers = [];
      for (let i = 0; i < 7; i++) {
        answers.push(await fetcher.client.request({ type: 'bundle_fetch', id: 0, account: owner.account }));
      }
      expect(answers.slice(0, 5).every((a) => a.type === 'bundles')).toBe(true);
      expect(answers[6]).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
      expect((answers[6] as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
    });
  });

  describe(`${transport}: channels and presence`, () => {
    let server: TestServer;
    let dial: Dial;
    beforeAll(async () => {
      server = await start({ limits: { maxChannels: 3, historySize: 3 } });
      dial = makeDial(server);
    });
    afterAll(() => server.stop());

    it('publishes to every subscriber with the same bytes and an increasing offset', async () => {
      const [a, b, c] = [await register(dial), await register(dial), await register(dial)];
      for (const d of [a, b])
        await d.client.expect({ type: 'subscribe', id: 0, channel: 'public:room1' }, 'subscribed');
      const p1 = await c.client.expect(
        { type: 'publish', id: 0, channel: 'public:room1', payload: bytes(5, 1) },
        'published',
      );
      const p2 = await c.client.expect(
        { type: 'publish', id: 0, channel: 'public:room1', payload: bytes(5, 2) },
        'published',
      );
      expect(p2.offset).toBe(p1.offset + 1);
      for (const d of [a, b]) {
        const m1 = await d.client.next('channel_message');
        const m2 = await d.client.next('channel_message');
        expect([m1.offset, m2.offset]).toEqual([p1.offset, p2.offset]);
        expect(m1.from).toEqual({ account: c.account, deviceId: 1 });
        expect(m2.payload).toEqual(bytes(5, 2));
      }
    });

    it('applies the channel rules (FORBIDDEN)', async () => {
      const a = await register(dial);
      const b = await register(dial);
      await b.client.expect({ type: 'subscribe', id: 0, channel: `user:${a.account}/status` }, 'subscribed');
      const foreign = await b.client.request({
        type: 'publish',
        id: 0,
        channel: `user:${a.account}/status`,
        payload: bytes(1),
      });
      expect(foreign).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
      await a.client.expect(
        { type: 'publish', id: 0, channel: `user:${a.account}/status`, payload: bytes(1) },
        'published',
      );
      const message = await b.client.next('channel_message').catch((e) => {
        throw new Error(`${e}: ${JSON.stringify(b.client.inbox)}`);
      });
      expect(message.from.account).toBe(a.account);
      const privateSub = await b.client.request({ type: 'subscribe', id: 0, channel: `private:${a.account}` });
      expect(privateSub).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
      const noNamespace = await b.client.request({ type: 'subscribe', id: 0, channel: 'random' });
      expect(noNamespace).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
      // An invalid name fails validation; the request id itself is valid, so the error echoes it.
      b.client.send({ type: 'subscribe', id: 99, channel: 'public:bad name' });
      expect(await b.client.next('error')).toMatchObject({ id: 99, code: 'PROTO_BAD_FIELD' });
    });

    it('replays missed messages from an offset, or says recovered=false', async () => {
      const a = await register(dial);
      const b = await register(dial);
      const sub = await b.client.expect({ type: 'subscribe', id: 0, channel: 'public:history' }, 'subscribed');
      expect(sub.recovered).toBe(true);
      await b.client.expect({ type: 'unsubscribe', id: 0, channel: 'public:history' }, 'ok');
      for (let i = 1; i <= 2; i++) {
        await a.client.expect({ type: 'publish', id: 0, channel: 'public:history', payload: bytes(1, i) }, 'published');
      }
      const back = await b.client.expect(
        { type: 'subscribe', id: 0, channel: 'public:history', since: { epoch: sub.epoch, offset: sub.offset } },
        'subscribed',
      );
      expect(back.recovered).toBe(true);
      const missed = [await b.client.next('channel_message'), await b.client.next('channel_message')];
      expect(missed.map((m) => m.payload[0])).toEqual([1, 2]);
      // History holds 3: after 3 more publications, offset `sub.offset` is gone.
      await b.client.expect({ type: 'unsubscribe', id: 0, channel: 'public:history' }, 'ok');
      for (let i = 3; i <= 5; i++) {
        await a.client.expect({ type: 'publish', id: 0, channel: 'public:history', payload: bytes(1, i) }, 'published');
      }
      const lost = await b.client.expect(
        { type: 'subscribe', id: 0, channel: 'public:history', since: { epoch: sub.epoch, offset: sub.offset } },
        'subscribed',
      );
      expect(lost.recovered).toBe(false);
      const wrongEpoch = await a.client.expect(
        { type: 'subscribe', id: 0, channel: 'public:history', since: { epoch: 'old', offset: 1 } },
        'subscribed',
      );
      expect(wrongEpoch.recovered).toBe(false);
    });

    it('sends a presence snapshot, then join and leave (also on disconnect)', async () => {
      const a = await register(dial);
      const b = await register(dial);
      await a.client.expect({ type: 'subscribe', id: 0, channel: 'public:lobby', presence: true }, 'subscribed');
      const snapshot = await a.client.next('presence_snapshot');
      expect(snapshot.members.map((m) => m.account)).toEqual([a.account]);
      await b.client.expect({ type: 'subscribe', id: 0, channel: 'public:lobby', presence: true }, 'subscribed');
      const join = await a.client.next('presence_join');
      expect(join.member).toMatchObject({ account: b.account, deviceId: 1 });
      const snapshotB = await b.client.next('presence_snapshot');
      expect(snapshotB.members.map((m) => m.account).sort()).toEqual([a.account, b.account].sort());
      b.client.close();
      const leave = await a.client.next('presence_leave');
      expect(leave.member.account).toBe(b.account);
    });

    it('limits channels per connection (TOO_MANY_CHANNELS)', async () => {
      const a = await register(dial);
      for (let i = 0; i < 3; i++)
        await a.client.expect({ type: 'subscribe', id: 0, channel: `public:c${i}` }, 'subscribed');
      const over = await a.client.request({ type: 'subscribe', id: 0, channel: 'public:c4' });
      expect(over).toMatchObject({ type: 'error', code: 'TOO_MANY_CHANNELS' });
    });
  });

  describe(`${transport}: limits`, () => {
    it('refuses payloads above max_message_size (PAYLOAD_TOO_LARGE)', async () => {
      await withServer({ limits: { maxMessageSize: 1000 } }, async (server) => {
        const dial = makeDial(server);
        const a = await register(dial);
        const big = await a.client.request({
          type: 'publish',
          id: 0,
          channel: 'public:x',
          payload: bytes(1001),
        });
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

    it('rate-limits frames per connection (RATE_LIMITED with retryAfterMs)', async () => {
      await withServer({ limits: { rate: 1, rateBurst: 5 } }, async (server) => {
        const dial = makeDial(server);
        const client = await TestClient.open(dial); // hello used one token
        const answers = await Promise.all(Array.from({ length: 6 }, () => client.request({ type: 'sync', id: 0 })));
        const limited = answers.filter((a) => a.type === 'error' && a.code === 'RATE_LIMITED');
        expect(limited.length).toBeGreaterThanOrEqual(2);
        expect((limited[0] as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
      });
    });

    it('cuts off a connection that keeps flooding past the limit (close RATE_LIMITED)', async () => {
      await withServer({ limits: { rate: 1, rateBurst: 3 } }, async (server) => {
        const client = await TestClient.open(makeDial(server));
        for (let i = 0; i < 20; i++) client.send({ type: 'ping', nonce: i });
        await expectClose(client, 'RATE_LIMITED');
        const other = await TestClient.open(makeDial(server));
        expect((await other.exchange({ type: 'ping', nonce: 7 }, 'pong')).nonce).toBe(7);
      });
    });

    it('limits authentication attempts per address (AUTH_RATE_LIMITED)', async () => {
      await withServer({ limits: { authAttempts: 3 } }, async (server) => {
        const dial = makeDial(server);
        const client = await TestClient.open(dial);
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

    it('limits connections per address (SERVER_BUSY)', async () => {
      await withServer({ limits: { maxConnectionsPerIp: 2 } }, async (server) => {
        const dial = makeDial(server);
        const a = await TestClient.open(dial);
        const b = await TestClient.open(dial);
        const c = new TestClient(await dial());
        await expectClose(c, 'SERVER_BUSY');
        a.close();
        await a.link.closed;
        // A slot is free again once the server has seen the close.
        await new Promise((r) => setTimeout(r, 100));
        const d = await TestClient.open(dial);
        d.close();
        b.close();
      });
    });

    it('limits connections in total (SERVER_BUSY)', async () => {
      const total = await start({ limits: { maxConnections: 1 } });
      try {
        const dial = makeDial(total);
        const a = await TestClient.open(dial);
        const b = new TestClient(await dial());
        await expectClose(b, 'SERVER_BUSY');
        a.close();
      } finally {
        await total.stop();
      }
    });

    it('closes a consumer that stops reading once its send queue overflows (SLOW_CONSUMER)', async () => {
      await withServer(
        { limits: { sendQueueBytes: 64 * 1024, maxMessageSize: 60_000, rateBurst: 5_000 } },
        async (server) => {
          const dial = makeDial(server);
          const slow = await register(dial);
          const publisher = await register(dial);
          await slow.client.expect({ type: 'subscribe', id: 0, channel: 'public:firehose' }, 'subscribed');
          slow.client.link.pauseReading();
          const violations = async () =>
            (await server.server.metrics.limitViolations.get()).values.find((v) => v.labels.limit === 'send_queue')
              ?.value ?? 0;
          const payload = bytes(50_000);
          let published = 0;
          while ((await violations()) === 0 && published < 2_000) {
            await publisher.client.expect({ type: 'publish', id: 0, channel: 'public:firehose', payload }, 'published');
            published++;
          }
          expect(await violations()).toBe(1);
          expect(server.server.sessionCount).toBe(1);
          // The publisher is unaffected.
          await publisher.client.expect({ type: 'publish', id: 0, channel: 'public:firehose', payload }, 'published');
        },
      );
    });

    it('closes a connection that does not authenticate within the heartbeat timeout (AUTH_REQUIRED)', async () => {
      await withServer({ heartbeat: { interval: 100, timeout: 300 } }, async (server) => {
        const client = await TestClient.open(makeDial(server));
        // Answering pings keeps it alive, but not unauthenticated forever.
        client.send({ type: 'ping', nonce: 1 });
        await expectClose(client, 'AUTH_REQUIRED');
      });
    });

    it('pings an idle connection and closes a silent one (HEARTBEAT_TIMEOUT), removing its presence', async () => {
      await withServer({ heartbeat: { interval: 100, timeout: 300 } }, async (server) => {
        const dial = makeDial(server);
        const watcher = await register(dial);
        const silent = await register(dial);
        await watcher.client.expect({ type: 'subscribe', id: 0, channel: 'public:hb', presence: true }, 'subscribed');
        await silent.client.expect({ type: 'subscribe', id: 0, channel: 'public:hb' }, 'subscribed');
        // The watcher answers pings; the silent one never does.
        const answerPings = setInterval(() => {
          const ping = watcher.client.inbox.findIndex((f) => f.type === 'ping');
          if (ping >= 0) watcher.client.send({ type: 'pong', nonce: 0 });
          watcher.client.inbox.splice(
            0,
            watcher.client.inbox.length,
            ...watcher.client.inbox.filter((f) => f.type !== 'ping'),
          );
        }, 20);
        try {
          await silent.client.next('ping');
          await expectClose(silent.client, 'HEARTBEAT_TIMEOUT');
          const leave = await watcher.client.next('presence_leave');
          expect(leave.member.account).toBe(silent.account);
          expect(watcher.client.isClosed).toBe(false);
        } finally {
          clearInterval(answerPings);
        }
      });
    });
  });

  describe(`${transport}: hostile input`, () => {
    let server: TestServer;
    let dial: Dial;
    beforeAll(async () => {
      server = await start({ limits: { maxFrameBytes: 64 * 1024, maxMessageSize: 32 * 1024 } });
      dial = makeDial(server);
    });
    afterAll(() => server.stop());

    it('answers random bytes and malformed frames with typed errors and keeps serving', async () => {
      const client = await TestClient.open(dial);
      for (let i = 0; i < 20; i++) client.link.sendRaw(new Uint8Array(randomBytes(1 + ((i * 37) % 300))));
      client.link.sendRaw(testCodec.encode({ type: 'ping', nonce: 1 }).subarray(0, 3));
      client.link.sendRaw(new Uint8Array([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xa3, 0x78, 0x79, 0x7a])); // {type:'xyz'}
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
      const other = await register(dial);
      await other.client.expect({ type: 'device_list', id: 0 }, 'devices');
    });

    it('refuses server-to-client frames sent by a client', async () => {
      const device = await register(dial);
      const answer = await device.client.request({ type: 'published', id: 0, offset: 1 });
      expect(answer).toMatchObject({ type: 'error', code: 'PROTO_UNKNOWN_TYPE' });
    });

    it('closes a connection that sends an oversized frame, and keeps serving others', async () => {
      const client = await TestClient.open(dial);
      client.link.sendRaw(new Uint8Array(70 * 1024));
      await client.link.closed;
      const other = await register(dial);
      await other.client.expect({ type: 'device_list', id: 0 }, 'devices');
    });
  });

  describe(`${transport}: metrics and shutdown`, () => {
    it('counts connections and messages labelled by transport', async () => {
      await withServer({}, async (server) => {
        const dial = makeDial(server);
        const device = await register(dial);
        await device.client.expect({ type: 'subscribe', id: 0, channel: 'public:m' }, 'subscribed');
        const text = await server.server.metrics.registry.metrics();
        expect(text).toMatch(new RegExp(`pulse_connections_total\\{transport="${transport}"\\} 1`));
        expect(text).toMatch(new RegExp(`pulse_connections_active\\{transport="${transport}"\\} 1`));
        expect(text).toMatch(new RegExp(`pulse_messages_total\\{transport="${transport}",direction="in"\\} 3`));
        expect(text).toMatch(new RegExp(`pulse_channels_active\\{transport="${transport}"\\} 1`));
        expect(text).toMatch(/pulse_channels_active\{transport="all"\} 1/);
        await device.client.expect({ type: 'unsubscribe', id: 0, channel: 'public:m' }, 'ok');
        const after = await server.server.metrics.registry.metrics();
        expect(after).toMatch(/pulse_channels_active\{transport="all"\} 0/);
        expect(text).toMatch(new RegExp(`pulse_latency_seconds_count\\{transport="${transport}",type="register"\\} 1`));
      });
    });

    it('tells connected clients SERVER_SHUTDOWN on stop', async () => {
      const server = await start();
      const dial = makeDial(server);
      const device = await register(dial);
      const stopped = server.stop();
      await expectClose(device.client, 'SERVER_SHUTDOWN');
      await stopped;
    });
  });
}
