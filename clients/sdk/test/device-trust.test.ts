import { generateIdentityKeyPair } from '@pulse/crypto';
import { authSignedMessage, deviceListSignedMessage, registerSignedMessage } from '@pulse/proto';
import { FrameClient, InProcessServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeContent, sessionPayload } from '../src/content.ts';
import { type ClientEvents, CryptoEngine, type PulseClient, PulseError } from '../src/index.ts';
import { memoryClient } from './helpers.ts';
import { ServerDatabase } from './server-database.ts';

/**
 * What a server that was taken over can do to an account's devices, tried
 * through the SDK against a real server whose database the test edits as the
 * attacker would (README "Trust"). The answer must be: nothing unseen.
 */
let server: InProcessServer;
let database: ServerDatabase;
const clients: PulseClient[] = [];

beforeAll(() => {
  server = InProcessServer.start();
  database = new ServerDatabase(server.dataDir);
});
afterAll(async () => {
  for (const client of clients) await client.close();
  database?.close();
  await server?.stop();
});

async function user(name: string): Promise<PulseClient> {
  const { client } = await memoryClient(server);
  clients.push(client);
  await client.register(name);
  return client;
}

function record<K extends keyof ClientEvents>(client: PulseClient, event: K): ClientEvents[K][] {
  const seen: ClientEvents[K][] = [];
  client.on(event, (value) => seen.push(value));
  return seen;
}

describe('a compromised server and the device list', () => {
  it('a device the server put into an account gets nothing, and the sender is told', async () => {
    const alice = await user('ghost-alice');
    const bob = await user('ghost-bob');
    await alice.sendText('ghost-bob', 'before');
    await bob.sync();
    // The attacker registers a device of its own (it has valid prekeys) and moves it into bob's account.
    await user('ghost-mallory');
    database.moveDevice('ghost-mallory', 'ghost-bob', 7);

    const untrusted = record(alice, 'untrusted_device');
    await expect(alice.sendText('ghost-bob', 'secret')).rejects.toSatisfy((e) => PulseError.is(e, 'UNTRUSTED_DEVICE'));
    expect(untrusted).toEqual([{ account: 'ghost-bob', deviceId: 7 }]);
    expect(alice.messages('user:ghost-bob').at(-1)).toMatchObject({ text: 'secret', status: 'failed' });
    // A contact who never wrote to bob before is refused the same way.
    const carol = await user('ghost-carol');
    await expect(carol.sendText('ghost-bob', 'hello')).rejects.toSatisfy((e) => PulseError.is(e, 'UNTRUSTED_DEVICE'));
    // Bob's own sends make no copy for it either: his signed list has only his device.
    await bob.sendText('ghost-alice', 'from bob');
    expect(database.queued('ghost-bob', 7)).toBe(0);
    expect(database.queued('ghost-bob', 1)).toBe(0);
  });

  it('what a device the server put into an account sends is not shown', async () => {
    const alice = await user('inbound-alice');
    await user('inbound-bob');
    // The attacker's device: a real engine, registered under another name, then moved into bob's account.
    const ghost = await CryptoEngine.factory().create();
    const registering = await FrameClient.connect(server.dial());
    const accountIdentity = generateIdentityKeyPair();
    const devices = [{ deviceId: 1, identityKey: ghost.identityKey, name: 'x', addedAt: 1 }];
    await registering.expect(
      {
        type: 'register',
        id: 0,
        account: 'inbound-mallory',
        deviceName: 'x',
        identityKey: ghost.identityKey,
        signature: ghost.sign(registerSignedMessage(registering.challenge, 'inbound-mallory', ghost.identityKey)),
        accountKey: accountIdentity.publicKey,
        deviceList: {
          version: 1,
          devices,
          signature: accountIdentity.sign(deviceListSignedMessage({ account: 'inbound-mallory', version: 1, devices })),
        },
      },
      'auth_ok',
    );
    registering.close();
    database.moveDevice('inbound-mallory', 'inbound-bob', 7);
    const asBob = await FrameClient.connect(server.dial());
    const signature = ghost.sign(authSignedMessage(asBob.challenge, 'inbound-bob', 7));
    await asBob.expect({ type: 'auth', id: 0, account: 'inbound-bob', deviceId: 7, signature }, 'auth_ok');
    const { bundles } = await asBob.expect({ type: 'bundle_fetch', id: 0, account: 'inbound-alice' }, 'bundles');
    const to = { account: 'inbound-alice', deviceId: 1 };
    await ghost.startSession(to, bundles[0]!);
    const text = encodeContent({ t: 'text', id: 'ghost1', text: 'it is bob, trust me', sentAt: Date.now() });
    const payload = sessionPayload(await ghost.encrypt(to, text));
    await asBob.expect({ type: 'send', id: 0, to: 'inbound-alice', envelopes: [{ deviceId: 1, payload }] }, 'sent');

    const problems = record(alice, 'problem');
    await alice.sync();
    expect(problems).toMatchObject([{ from: 'inbound-bob.7', reason: expect.stringContaining('signed device list') }]);
    expect(alice.messages('user:inbound-bob')).toEqual([]);
    asBob.close();
  });

  it('a device list rolled back to an older version is refused', async () => {
    const alice = await user('rollback-alice');
    const laptop = await user('rollback-bob');
    const { client: phone } = await memoryClient(server);
    clients.push(phone);
    const added = record(alice, 'device_added');
    const removed = record(alice, 'device_removed');
    const refused = record(alice, 'device_list_refused');
    await alice.sendText('rollback-bob', 'one');
    expect(await laptop.linkDevice(phone, 'phone')).toBe(2);
    await alice.sendText('rollback-bob', 'two'); // learns version 2
    expect(added).toMatchObject([{ account: 'rollback-bob', deviceId: 2, name: 'phone', own: false }]);
    const withPhone = database.snapshot('rollback-bob');

    await laptop.removeDevice(2);
    await alice.sendText('rollback-bob', 'three'); // learns version 3
    expect(removed).toMatchObject([{ account: 'rollback-bob', deviceId: 2, name: 'phone' }]);

    // The server puts back version 2 and the phone's device row.
    database.restore('rollback-bob', withPhone);
    await expect(alice.sendText('rollback-bob', 'four')).rejects.toSatisfy((e) =>
      PulseError.is(e, 'DEVICE_LIST_ROLLBACK'),
    );
    expect(refused).toMatchObject([{ account: 'rollback-bob', code: 'DEVICE_LIST_ROLLBACK' }]);
    expect(database.queued('rollback-bob', 2)).toBe(0);
  });
});

describe('linking by approval', () => {
  it('a code links nothing unless a device of the account approves it; contacts and siblings are told', async () => {
    const alice = await user('link-alice');
    const laptop = await user('link-bob');
    await alice.sendText('link-bob', 'hi');
    await laptop.sync();
    const { client: phone } = await memoryClient(server);
    clients.push(phone);
    const requests = record(laptop, 'link_request');
    const ownAdded = record(laptop, 'device_added');
    let shown = '';
    const linked = phone.requestLink('link-bob', (code) => {
      shown = code;
    });
    while ((await laptop.pendingLinks()).length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(requests.map((r) => r.deviceName)).toEqual(['device']);
    // A wrong code approves nothing.
    const wrong = shown.startsWith('0') ? `1${shown.slice(1)}` : `0${shown.slice(1)}`;
    await expect(laptop.approveLink(wrong)).rejects.toSatisfy((e) => PulseError.is(e, 'LINK_CODE_MISMATCH'));
    expect((await laptop.devices()).map((d) => d.deviceId)).toEqual([1]);

    const approved = await laptop.approveLink(shown);
    expect(await linked).toBe(approved.deviceId);
    expect(ownAdded).toMatchObject([{ account: 'link-bob', deviceId: approved.deviceId, own: true }]);
    // The new device holds the account identity: same safety number with alice as the laptop.
    expect(phone.account).toBe('link-bob');
    expect(Buffer.from(phone.accountKey!)).toEqual(Buffer.from(laptop.accountKey!));
    expect((await phone.safetyNumber('link-alice')).number).toBe((await laptop.safetyNumber('link-alice')).number);

    const added = record(alice, 'device_added');
    await alice.sendText('link-bob', 'to both');
    expect(added).toMatchObject([{ account: 'link-bob', deviceId: approved.deviceId, own: false }]);
    await Promise.all([laptop.sync(), phone.sync()]);
    expect(phone.messages('user:link-alice').map((m) => m.text)).toEqual(['to both']);
    expect(laptop.messages('user:link-alice').map((m) => m.text)).toEqual(['hi', 'to both']);

    // Removing the phone is a list without it: alice is told, and the phone gets nothing more.
    const removed = record(alice, 'device_removed');
    await laptop.removeDevice(approved.deviceId);
    await alice.sendText('link-bob', 'laptop only');
    expect(removed).toMatchObject([{ account: 'link-bob', deviceId: approved.deviceId, name: 'device' }]);
    await laptop.sync();
    expect(laptop.messages('user:link-alice').map((m) => m.text)).toEqual(['hi', 'to both', 'laptop only']);
    expect(database.queued('link-bob', approved.deviceId)).toBe(0);
    expect((await laptop.devices()).map((d) => d.deviceId)).toEqual([1]);
  });
});
