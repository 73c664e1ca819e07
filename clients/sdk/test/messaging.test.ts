import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameCodec } from '@pulse/proto';
import { InProcessServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePayload } from '../src/content.ts';
import { CryptoEngine, type PulseClient, PulseError, type StoredMessage } from '../src/index.ts';
import { decodeProfile } from '../src/profile.ts';
import { memoryClient, recordingConnection, until } from './helpers.ts';
import { ServerDatabase } from './server-database.ts';

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

async function user(name: string, options: Parameters<typeof memoryClient>[1] = {}) {
  const made = await memoryClient(server, options);
  clients.push(made.client);
  await made.client.register(name);
  return made;
}

function inbox(client: PulseClient): StoredMessage[] {
  const received: StoredMessage[] = [];
  client.on('message', (m) => received.push(m));
  return received;
}

describe('1:1 messages through a real server (in-process)', () => {
  it('an offline recipient gets everything sent meanwhile, once, in order', async () => {
    const { client: alice } = await user('offline-alice');
    const { client: bob, vault: bobVault } = await user('offline-bob');
    await alice.sendText('offline-bob', 'first, while online');
    await bob.sync();
    await bob.close();

    const texts = Array.from({ length: 25 }, (_, i) => `queued message ${i}`);
    for (const text of texts) await alice.sendText('offline-bob', text);

    const { client: bobAgain } = await memoryClient(server, { vault: bobVault });
    clients.push(bobAgain);
    const received = inbox(bobAgain);
    await bobAgain.connect();
    await bobAgain.sync();
    await bobAgain.sync(); // redelivery of anything unacknowledged must not show twice
    expect(received.map((m) => m.text)).toEqual(texts);
    expect(bobAgain.messages('user:offline-alice').map((m) => m.text)).toEqual(['first, while online', ...texts]);
  });

  it('concurrent sends to a new contact all arrive, in call order', async () => {
    const { client: alice } = await user('burst-alice');
    const { client: bob } = await user('burst-bob');
    const texts = ['one', 'two', 'three', 'four', 'five'];
    await Promise.all(texts.map((text) => alice.sendText('burst-bob', text)));
    await bob.sync();
    expect(bob.messages('user:burst-alice').map((m) => m.text)).toEqual(texts);
  });

  it('a delivery receipt marks the sent message delivered', async () => {
    const { client: alice } = await user('receipt-alice');
    const { client: bob } = await user('receipt-bob');
    const sent = await alice.sendText('receipt-bob', 'did you get this?');
    await bob.sync();
    await until(
      () => alice.messages('user:receipt-bob').find((m) => m.id === sent.id)?.status === 'delivered',
      'the receipt',
    );
  });

  it('one safety number per contact, equal on both sides; a new account identity stops sending until accepted', async () => {
    const { client: alice } = await user('trust-alice');
    const { client: bob } = await user('trust-bob');
    await alice.sendText('trust-bob', 'hi');
    await bob.sync();
    const fromAlice = await alice.safetyNumber('trust-bob');
    const fromBob = await bob.safetyNumber('trust-alice');
    expect(fromAlice.number).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(fromAlice.number).toBe(fromBob.number);
    expect(fromAlice).toMatchObject({ verified: false, identityChanged: false });

    // Bob starts over: the server forgets his account, he registers the name again with new keys.
    const database = new ServerDatabase(server.dataDir);
    database.deleteAccount('trust-bob');
    database.close();
    const { client: newBob } = await user('trust-bob');
    const changed: { account: string }[] = [];
    alice.on('identity_changed', (event) => changed.push(event));
    await newBob.sendText('trust-alice', 'it is me, new phone');
    await alice.sync();
    expect(changed).toEqual([{ account: 'trust-bob' }]);
    // Nothing from the new identity is shown before the user accepted it.
    expect(alice.messages('user:trust-bob').map((m) => m.text)).toEqual(['hi']);
    const flagged = await alice.safetyNumber('trust-bob');
    expect(flagged).toMatchObject({ identityChanged: true, verified: false });
    expect(flagged.number).not.toBe(fromAlice.number);
    expect(flagged.number).toBe((await newBob.safetyNumber('trust-alice')).number);
    await expect(alice.sendText('trust-bob', 'blocked')).rejects.toSatisfy((e) => PulseError.is(e, 'IDENTITY_CHANGED'));

    // After comparing safety numbers the user accepts the new identity: sending works again.
    await alice.markVerified('trust-bob');
    await alice.sendText('trust-bob', 'verified now');
    await newBob.sync();
    expect(newBob.messages('user:trust-alice').map((m) => m.text)).toEqual(['it is me, new phone', 'verified now']);
  });

  it('a linked second device gets messages to the account and copies of what its siblings send', async () => {
    const { client: alice } = await user('multi-alice');
    const { client: bobLaptop } = await user('multi-bob');
    const { client: bobPhone } = await memoryClient(server);
    clients.push(bobPhone);
    await alice.sendText('multi-bob', 'before the phone');
    expect(await bobLaptop.linkDevice(bobPhone, 'phone')).toBe(2);
    expect((await bobLaptop.devices()).map((d) => d.deviceId)).toEqual([1, 2]);

    await alice.sendText('multi-bob', 'to both devices'); // alice learns device 2 from DEVICES_MISMATCH
    await Promise.all([bobLaptop.sync(), bobPhone.sync()]);
    expect(bobPhone.messages('user:multi-alice').map((m) => m.text)).toEqual(['to both devices']);
    expect(bobLaptop.messages('user:multi-alice').map((m) => m.text)).toEqual(['before the phone', 'to both devices']);

    await bobPhone.sendText('multi-alice', 'typed on the phone');
    await Promise.all([alice.sync(), bobLaptop.sync()]);
    expect(alice.messages('user:multi-bob').at(-1)).toMatchObject({ text: 'typed on the phone', fromDevice: 2 });
    expect(bobLaptop.messages('user:multi-alice').at(-1)).toMatchObject({
      text: 'typed on the phone',
      direction: 'out',
    });
  });

  it('a plaintext never reaches the server: not in its database files, logs or metrics', async () => {
    const { client: alice } = await user('secret-alice');
    const { client: bob } = await user('secret-bob');
    const unique = `the eagle lands at ${crypto.randomUUID()}`;
    await alice.sendText('secret-bob', unique);
    await bob.close(); // offline: the envelope stays in the database
    await alice.sendText('secret-bob', unique);
    await alice.createGroup('secret-group', ['secret-bob']);
    await alice.sendGroupText('secret-group', unique);

    const needles = [unique, Buffer.from(unique).toString('base64'), Buffer.from(unique).toString('hex')];
    const haystacks: [string, Buffer][] = [];
    for (const file of readdirSync(server.dataDir)) haystacks.push([file, readFileSync(join(server.dataDir, file))]);
    haystacks.push(['log', Buffer.from(server.logs())]);
    haystacks.push(['metrics', Buffer.from(await server.metrics())]);
    expect(haystacks.some(([name]) => name.endsWith('.sqlite') || name.endsWith('.db'))).toBe(true);
    for (const [name, bytes] of haystacks) {
      for (const needle of needles) expect(bytes.includes(needle), `${needle} in ${name}`).toBe(false);
    }
  });
});

describe('groups', () => {
  it('three members; after a removal the removed member cannot decrypt what follows', async () => {
    const sent: Uint8Array[] = [];
    const { client: alice } = await user('group-alice', { factories: recordingConnection(server, sent) });
    const { client: bob } = await user('group-bob');
    const { client: carol, vault: carolVault } = await user('group-carol');
    const bobInbox = inbox(bob);
    const carolInbox = inbox(carol);

    const group = await alice.createGroup('trio', ['group-bob', 'group-carol']);
    await Promise.all([bob.sync(), carol.sync()]);
    await alice.sendGroupText(group.id, 'hello trio');
    await bob.sendGroupText(group.id, 'bob says hi');
    await Promise.all([bob.sync(), carol.sync(), alice.sync()]);
    expect(carolInbox.map((m) => m.text)).toEqual(['hello trio', 'bob says hi']);
    expect(alice.messages(`group:${group.id}`).map((m) => m.text)).toEqual(['hello trio', 'bob says hi']);

    await alice.removeMember(group.id, 'group-carol');
    await Promise.all([bob.sync(), carol.sync()]);
    await alice.sync(); // bob's rotated sender key
    expect(carol.findGroup(group.id)?.left).toBe(true);

    sent.length = 0;
    await alice.sendGroupText(group.id, 'carol must not read this');
    await bob.sendGroupText(group.id, 'nor this');
    await Promise.all([bob.sync(), carol.sync(), alice.sync()]);
    expect(bobInbox.map((m) => m.text)).toEqual(['hello trio', 'carol must not read this']);
    expect(alice.messages(`group:${group.id}`).map((m) => m.text)).toContain('nor this');
    expect(carolInbox.map((m) => m.text)).toEqual(['hello trio', 'bob says hi']);
    await expect(carol.sendGroupText(group.id, 'still here?')).rejects.toSatisfy((e) =>
      PulseError.is(e, 'NOT_A_MEMBER'),
    );

    // Even holding the ciphertext (say, from a compromised server), carol's keys do not open it.
    const codec = new FrameCodec();
    const groupCiphertexts = sent
      .map((bytes) => codec.decode(bytes))
      .flatMap((frame) => (frame.type === 'send' ? frame.envelopes.map((e) => parsePayload(e.payload)) : []))
      .filter((p) => p.kind === 'group');
    expect(groupCiphertexts.length).toBeGreaterThan(0);
    const carolEngine = await CryptoEngine.factory().restore(decodeProfile((await carolVault.load())!).engine);
    for (const payload of groupCiphertexts) {
      await expect(
        carolEngine.groupDecrypt({ account: 'group-alice', deviceId: 1 }, group.id, payload.ciphertext),
      ).rejects.toThrow();
    }
  });
});
