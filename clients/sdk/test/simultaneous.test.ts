import { IdentityKeyPair, InMemoryPrekeyStore, SessionRecord } from '@pulse/crypto';
import { InProcessServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../src/base64.ts';
import type { DeviceAddress, DeviceBundle, E2EEngine } from '../src/e2e/engine.ts';
import { CryptoEngine, type MemoryVault, type PulseClient, type StoredMessage } from '../src/index.ts';
import { decodeProfile, encodeProfile } from '../src/profile.ts';
import { memoryClient, until } from './helpers.ts';

// A real server (core, SQLite file, timers) in this process; clients reach it over in-memory connections.
let server: InProcessServer;
const clients: PulseClient[] = [];

beforeAll(() => {
  server = InProcessServer.start();
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await server?.stop();
});

/** A client whose received messages and reported problems are recorded; registered under `name` unless reopened. */
async function user(name: string, vault?: MemoryVault) {
  const made = await memoryClient(server, { vault });
  const { client } = made;
  clients.push(client);
  const received: StoredMessage[] = [];
  const problems: string[] = [];
  client.on('message', (m) => received.push(m));
  client.on('problem', (p) => problems.push(`${p.from}: ${p.reason}`));
  if (vault === undefined) await client.register(name);
  else await client.connect();
  return { client, vault: made.vault, received, problems };
}

/** Engine state as the SDK stored it before session records: one serialized `Session` per device (v1). */
function asVersion1(engineState: Uint8Array): Uint8Array {
  const state = JSON.parse(new TextDecoder().decode(engineState)) as { v: number; sessions: Record<string, string> };
  expect(state.v).toBe(3);
  state.v = 1;
  for (const [address, record] of Object.entries(state.sessions)) {
    const current = SessionRecord.deserialize(fromBase64(record)).current;
    if (current === undefined) throw new Error(`no current session for ${address}`);
    state.sessions[address] = toBase64(current.serialize());
  }
  return new TextEncoder().encode(JSON.stringify(state));
}

describe('1:1 sessions when both sides initiate at once', () => {
  it('both first messages cross, then every later message in both directions decrypts exactly once', async () => {
    const alice = await user('simul-alice');
    const bob = await user('simul-bob');

    // Both write first before either has received anything: each builds its own initiator session.
    const sentByAlice = ['hi bob'];
    const sentByBob = ['hi alice'];
    await Promise.all([alice.client.sendText('simul-bob', 'hi bob'), bob.client.sendText('simul-alice', 'hi alice')]);

    // Then turns in both directions, sequential and interleaved (concurrent sends from both sides).
    for (let round = 0; round < 3; round++) {
      const a = `alice round ${round}`;
      const b = `bob round ${round}`;
      sentByAlice.push(a);
      sentByBob.push(b);
      await alice.client.sendText('simul-bob', a);
      await bob.client.sendText('simul-alice', b);
    }
    for (let round = 0; round < 3; round++) {
      const a = [`alice burst ${round}.1`, `alice burst ${round}.2`];
      const b = [`bob burst ${round}.1`, `bob burst ${round}.2`];
      sentByAlice.push(...a);
      sentByBob.push(...b);
      await Promise.all([
        ...a.map((text) => alice.client.sendText('simul-bob', text)),
        ...b.map((text) => bob.client.sendText('simul-alice', text)),
      ]);
    }

    const done = () => bob.received.length >= sentByAlice.length && alice.received.length >= sentByBob.length;
    await until(
      () => done() || alice.problems.length + bob.problems.length > 0,
      'every message (or a decryption problem)',
    );
    await alice.client.sync();
    await bob.client.sync();

    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
    expect(bob.received.map((m) => m.text).sort()).toEqual([...sentByAlice].sort());
    expect(alice.received.map((m) => m.text).sort()).toEqual([...sentByBob].sort());
    // Every message shows exactly once in each history, and every sent one was confirmed delivered.
    for (const [client, peer, sent] of [
      [alice.client, 'simul-bob', sentByBob],
      [bob.client, 'simul-alice', sentByAlice],
    ] as const) {
      const incoming = client.messages(`user:${peer}`).filter((m) => m.direction === 'in');
      expect(incoming.map((m) => m.text).sort()).toEqual([...sent].sort());
    }
    await until(
      () =>
        [alice.client.messages('user:simul-bob'), bob.client.messages('user:simul-alice')].every((history) =>
          history.filter((m) => m.direction === 'out').every((m) => m.status === 'delivered'),
        ),
      'delivery receipts for every message',
    );
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });
});

describe('1:1 sessions from a profile saved before session records', () => {
  it('a stored single session is wrapped into a record: the conversation continues both ways', async () => {
    const alice = await user('legacy-alice');
    const bob = await user('legacy-bob');
    await alice.client.sendText('legacy-bob', 'before the upgrade');
    await until(() => bob.received.length === 1, 'the first message');
    await bob.client.sendText('legacy-alice', 'reply before the upgrade');
    await until(() => alice.received.length === 1, 'the reply');
    await alice.client.close();

    const { state, engine } = decodeProfile((await alice.vault.load())!);
    await alice.vault.save(encodeProfile(state, asVersion1(engine)));
    const upgraded = await user('legacy-alice', alice.vault);
    await upgraded.client.sendText('legacy-bob', 'after the upgrade');
    await until(() => bob.received.length === 2, 'the message sent after the upgrade');
    await bob.client.sendText('legacy-alice', 'reply after the upgrade');
    await until(() => upgraded.received.length === 1, 'the reply after the upgrade');

    expect(bob.received.map((m) => m.text)).toEqual(['before the upgrade', 'after the upgrade']);
    expect(upgraded.received.map((m) => m.text)).toEqual(['reply after the upgrade']);
    expect(upgraded.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
    // The next save writes the record format.
    const saved = decodeProfile((await upgraded.vault.load())!).engine;
    expect(JSON.parse(new TextDecoder().decode(saved)).v).toBe(3);
  });
});

// ---- the same at the engine level: ciphertext handed over directly, in a chosen order ----------

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function bundleOf(engine: E2EEngine, deviceId: number): Promise<DeviceBundle> {
  const upload = await engine.generatePreKeys(1, true);
  return {
    deviceId,
    identityKey: engine.identityKey,
    signedPreKey: upload.signedPreKey!,
    pqPreKey: upload.pqOneTimePreKeys![0]!,
    pqPreKeyIsLastResort: false,
    oneTimePreKey: upload.oneTimePreKeys![0]!,
  };
}

/** Encrypts on `from` for `toAddress`, decrypts on `to` as coming from `fromAddress`. */
async function deliver(
  from: E2EEngine,
  toAddress: DeviceAddress,
  to: E2EEngine,
  fromAddress: DeviceAddress,
  text: string,
): Promise<string> {
  const ciphertext = await from.encrypt(toAddress, encoder.encode(text));
  return decoder.decode((await to.decrypt(fromAddress, ciphertext)).plaintext);
}

describe('CryptoEngine session records', () => {
  const A: DeviceAddress = { account: 'alice', deviceId: 1 };
  const B: DeviceAddress = { account: 'bob', deviceId: 1 };

  it('both initial messages delivered crosswise, then turns and crossing messages all decrypt', async () => {
    const factory = CryptoEngine.factory();
    const [alice, bob] = await Promise.all([factory.create(), factory.create()]);
    await alice.startSession(B, await bundleOf(bob, 1));
    await bob.startSession(A, await bundleOf(alice, 1));
    const fromAlice = await alice.encrypt(B, encoder.encode('hi bob'));
    const fromBob = await bob.encrypt(A, encoder.encode('hi alice'));
    expect(decoder.decode((await bob.decrypt(A, fromAlice)).plaintext)).toBe('hi bob');
    expect(decoder.decode((await alice.decrypt(B, fromBob)).plaintext)).toBe('hi alice');

    for (let round = 0; round < 3; round++) {
      expect(await deliver(alice, B, bob, A, `a${round}`)).toBe(`a${round}`);
      expect(await deliver(bob, A, alice, B, `b${round}`)).toBe(`b${round}`);
      // Crossing: both encrypt before either decrypts.
      const a = await alice.encrypt(B, encoder.encode(`ax${round}`));
      const b = await bob.encrypt(A, encoder.encode(`bx${round}`));
      expect(decoder.decode((await alice.decrypt(B, b)).plaintext)).toBe(`bx${round}`);
      expect(decoder.decode((await bob.decrypt(A, a)).plaintext)).toBe(`ax${round}`);
    }

    // Restored from exported state, both sides still talk.
    const [alice2, bob2] = await Promise.all([
      factory.restore(await alice.exportState()),
      factory.restore(await bob.exportState()),
    ]);
    expect(await deliver(alice2, B, bob2, A, 'after restore')).toBe('after restore');
    expect(await deliver(bob2, A, alice2, B, 'reply after restore')).toBe('reply after restore');
  });

  it('a peer that re-initiates (lost its state) is understood, and the old session still decrypts late messages', async () => {
    const factory = CryptoEngine.factory();
    const [alice, bob] = await Promise.all([factory.create(), factory.create()]);
    await alice.startSession(B, await bundleOf(bob, 1));
    expect(await deliver(alice, B, bob, A, 'hello')).toBe('hello');
    expect(await deliver(bob, A, alice, B, 'hello back')).toBe('hello back');
    const late = await bob.encrypt(A, encoder.encode('sent before the reset'));

    await alice.startSession(B, await bundleOf(bob, 1)); // e.g. a session reset
    expect(await deliver(alice, B, bob, A, 'new session')).toBe('new session');
    expect(decoder.decode((await alice.decrypt(B, late)).plaintext)).toBe('sent before the reset');
    expect(await deliver(bob, A, alice, B, 'on whichever is current')).toBe('on whichever is current');
    expect(await deliver(alice, B, bob, A, 'still fine')).toBe('still fine');
  });

  it('restores a v1 state (one serialized Session per device) and keeps using that session', async () => {
    // A v1 state written independently of the engine, from @pulse/crypto directly.
    const bob = await CryptoEngine.factory().create();
    const aliceIdentity = IdentityKeyPair.generate();
    const bundle = await bundleOf(bob, 1);
    const session = new SessionRecord();
    await session.initiate(aliceIdentity, bundle);
    const first = await session.encrypt(encoder.encode('from the old format'));
    expect(decoder.decode((await bob.decrypt(A, first)).plaintext)).toBe('from the old format');
    const reply = await bob.encrypt(A, encoder.encode('reply'));
    expect(decoder.decode((await session.decrypt(aliceIdentity, new InMemoryPrekeyStore(), reply)).plaintext)).toBe(
      'reply',
    );
    const v1 = {
      v: 1,
      identity: toBase64(aliceIdentity.serialize()),
      nextPreKeyId: 1,
      signed: [],
      oneTime: [],
      pq: [],
      baseKeys: [],
      sessions: { 'bob.1': toBase64(session.current!.serialize()) },
      ownSenderKeys: {},
      peerSenderKeys: {},
    };

    const alice = await CryptoEngine.factory().restore(encoder.encode(JSON.stringify(v1)));
    expect(alice.hasSession(B)).toBe(true);
    expect(alice.sessionIdentity(B)).toEqual(bob.identityKey);
    // Same session (no new initial message): bob decrypts with the session he already has.
    const next = await alice.encrypt(B, encoder.encode('after the upgrade'));
    expect(decoder.decode((await bob.decrypt(A, next)).plaintext)).toBe('after the upgrade');
    expect(await deliver(bob, A, alice, B, 'and back')).toBe('and back');
    const reopened = await CryptoEngine.factory().restore(await alice.exportState());
    expect(await deliver(reopened, B, bob, A, 'from the v2 state')).toBe('from the v2 state');
  });

  it('a corrupt v1 session is refused, not half-restored', async () => {
    const v1 = {
      v: 1,
      identity: toBase64(IdentityKeyPair.generate().serialize()),
      nextPreKeyId: 1,
      signed: [],
      oneTime: [],
      pq: [],
      baseKeys: [],
      sessions: { 'bob.1': toBase64(new Uint8Array([1, 2, 3])) },
      ownSenderKeys: {},
      peerSenderKeys: {},
    };
    await expect(CryptoEngine.factory().restore(encoder.encode(JSON.stringify(v1)))).rejects.toMatchObject({
      code: 'PROFILE_CORRUPT',
    });
  });
});
