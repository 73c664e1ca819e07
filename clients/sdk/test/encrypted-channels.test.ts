import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessServer, ListeningServer, type MemoryConnection } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciphertextOf } from '../src/encrypted-channels/sealing.ts';
import {
  type ClientEvents,
  CryptoEngine,
  MemoryVault,
  newEncryptedChannelName,
  PulseClient,
  PulseError,
  type TransportFactories,
} from '../src/index.ts';
import { decodeProfile } from '../src/profile.ts';
import { memoryClient, until } from './helpers.ts';

// End-to-end encrypted channels (clients/README.md "Encrypted channels") through the real
// server: in this process over in-memory connections, and a ListeningServer over real sockets.
let server: InProcessServer;
let listening: ListeningServer;
const clients: PulseClient[] = [];

beforeAll(async () => {
  server = InProcessServer.start({ logLevel: 'debug' });
  listening = await ListeningServer.start();
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await server?.stop();
  await listening?.stop();
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function user(
  name: string,
  options: Parameters<typeof memoryClient>[1] & { on?: string | InProcessServer } = {},
) {
  const made = await memoryClient(options.on ?? server, options);
  clients.push(made.client);
  await made.client.register(name);
  return made;
}

/** The texts of decrypted publications on `channel` as `client` sees them, and what it could not read. */
function listen(client: PulseClient, channel: string) {
  const texts: string[] = [];
  const unreadable: ClientEvents['channel_unreadable'][] = [];
  client.on('channel', (event) => {
    if (event.channel === channel && event.encrypted === true) texts.push(decoder.decode(event.payload));
  });
  client.on('channel_unreadable', (event) => {
    if (event.channel === channel) unreadable.push(event);
  });
  return { texts, unreadable };
}

/** A non-member subscribed to the same `public:` channel: the ciphertext anyone (or the server) holds. */
async function eavesdropper(name: string, channel: string) {
  const { client } = await user(name);
  const captured: ClientEvents['channel'][] = [];
  client.on('channel', (event) => {
    if (event.channel === channel) captured.push(event);
  });
  await client.subscribeChannel(channel);
  return captured;
}

function publish(client: PulseClient, channel: string, text: string): Promise<number> {
  return client.publish(channel, encoder.encode(text));
}

/** A channel of `owner` with `others` added, each of them subscribed (from the point of access). */
async function channelOf(owner: PulseClient, others: PulseClient[]): Promise<string> {
  const channel = newEncryptedChannelName();
  await owner.subscribeChannel(channel, { encrypted: true });
  for (const other of others) {
    await owner.addChannelMember(channel, other.account!);
    await other.sync();
    expect(other.encryptedChannel(channel)?.members).toContain(other.account);
  }
  for (const other of others) await other.sync();
  return channel;
}

describe('encrypted channels', () => {
  it.each([
    ['in-process', () => server],
    ['over real sockets', () => listening],
  ])('a plaintext never reaches the server (%s): not in its database files, logs or /metrics', async (_, at) => {
    const target = at();
    const on = target instanceof ListeningServer ? target.baseUrl : target;
    const prefix = target instanceof ListeningServer ? 'sock' : 'mem';
    const { client: alice } = await user(`${prefix}-plain-alice`, { on });
    const { client: bob } = await user(`${prefix}-plain-bob`, { on });
    const channel = await channelOf(alice, [bob]);
    const heard = listen(bob, channel);
    const heardByAlice = listen(alice, channel);
    const unique = `the owl flies at ${crypto.randomUUID()}`;
    await publish(alice, channel, unique);
    await until(() => heard.texts.includes(unique), 'bob decrypts the publication');
    await publish(bob, channel, `${unique} (reply)`);
    await until(() => heardByAlice.texts.includes(`${unique} (reply)`), 'alice decrypts the reply');

    const needles = [unique, Buffer.from(unique).toString('base64'), Buffer.from(unique).toString('hex')];
    const haystacks: [string, Buffer][] = [];
    for (const file of readdirSync(target.dataDir)) {
      haystacks.push([file, readFileSync(join(target.dataDir, file))]);
    }
    if (target instanceof ListeningServer) {
      const metrics = await fetch(target.metricsUrl);
      expect(metrics.status).toBe(200);
      haystacks.push(['metrics', Buffer.from(await metrics.text())]);
    } else {
      expect(target.logs()).toContain('"level":20'); // debug lines were kept: the log was really searched
      haystacks.push(['log', Buffer.from(target.logs())]);
      haystacks.push(['metrics', Buffer.from(await target.metrics())]);
    }
    expect(haystacks.some(([name]) => name.endsWith('.db'))).toBe(true);
    for (const [name, bytes] of haystacks) {
      for (const needle of needles) expect(bytes.includes(needle), `${needle} in ${name}`).toBe(false);
    }
  });

  it('a removed member cannot read what follows, even with its old keys and the ciphertext in hand', async () => {
    const { client: alice } = await user('rm-alice');
    const { client: bob } = await user('rm-bob');
    const { client: carol, vault: carolVault } = await user('rm-carol');
    const channel = await channelOf(alice, [bob, carol]);
    const captured = await eavesdropper('rm-eve', channel);
    await carol.idle();
    const carolFirstKeys = decodeProfile((await carolVault.load())!).engine; // alice's key, nothing used yet
    const bobHeard = listen(bob, channel);
    const carolHeard = listen(carol, channel);
    const aliceHeard = listen(alice, channel);

    await publish(alice, channel, 'hello all three');
    await publish(bob, channel, 'bob here');
    await until(() => carolHeard.texts.length === 2, 'carol reads both');
    expect(carolHeard.texts).toEqual(['hello all three', 'bob here']);
    // What carol holds just before her removal: every key she was ever given.
    await carol.idle();
    const carolKeys = decodeProfile((await carolVault.load())!).engine;

    await alice.removeChannelMember(channel, 'rm-carol');
    await Promise.all([bob.sync(), carol.sync()]);
    await alice.sync(); // bob's rotated sender key
    expect(carol.encryptedChannel(channel)?.left).toBe(true);
    expect(bob.encryptedChannel(channel)?.members).toEqual(['rm-alice', 'rm-bob']);

    const before = captured.length;
    await publish(alice, channel, 'carol must not read this');
    await publish(bob, channel, 'nor this');
    await until(() => bobHeard.texts.includes('carol must not read this'), 'bob reads alice');
    await until(() => aliceHeard.texts.includes('nor this'), 'alice reads bob');
    await until(() => captured.length === before + 2, 'the eavesdropper captures both');
    expect(carolHeard.texts).toEqual(['hello all three', 'bob here']);
    await expect(publish(carol, channel, 'still here?')).rejects.toSatisfy((e) => PulseError.is(e, 'NOT_A_MEMBER'));

    // Carol's keys from before the removal (the most she could have kept) open none of it.
    const after = captured.slice(before);
    const key = alice.encryptedChannel(channel)!.key;
    const oldKeys = await CryptoEngine.factory().restore(carolKeys);
    for (const publication of after) {
      await expect(oldKeys.groupDecrypt(publication.from, key, ciphertextOf(publication.payload))).rejects.toThrow();
    }
    // The check can fail: keys carol held open what was published while she was a member.
    const fromAlice = captured.find((p) => p.from.account === 'rm-alice')!;
    const firstKeys = await CryptoEngine.factory().restore(carolFirstKeys);
    await expect(firstKeys.groupDecrypt(fromAlice.from, key, ciphertextOf(fromAlice.payload))).resolves.toBeDefined();
  });

  it('a member added later reads from the point it was given access, never before', async () => {
    const { client: alice } = await user('late-alice');
    const { client: bob } = await user('late-bob');
    const { client: dave, vault: daveVault } = await user('late-dave');
    const channel = await channelOf(alice, [bob]);
    const captured = await eavesdropper('late-eve', channel);
    const aliceHeard = listen(alice, channel);

    await publish(alice, channel, 'before dave 1');
    await publish(bob, channel, 'before dave 2');
    await until(() => aliceHeard.texts.includes('before dave 2'), 'alice reads bob');
    await until(() => captured.length === 2, 'both captured');

    const joined: ClientEvents['encrypted_channel'][] = [];
    dave.on('encrypted_channel', (event) => joined.push(event));
    const daveHeard = listen(dave, channel);
    await alice.addChannelMember(channel, 'late-dave');
    await Promise.all([dave.sync(), bob.sync()]);
    expect(joined).toEqual([{ channel, members: ['late-alice', 'late-bob', 'late-dave'], change: 'joined' }]);
    const access = dave.encryptedChannel(channel)?.access;
    expect(access?.offset).toBeGreaterThanOrEqual(2);

    // Dave asks for the whole retained history: what predates his access is there, but unreadable.
    await dave.unsubscribeChannel(channel);
    await dave.subscribeChannel(channel, { since: { epoch: access!.epoch, offset: 0 } });
    await until(() => daveHeard.unreadable.length === 2, 'the two earlier publications replayed');
    expect(daveHeard.unreadable.map((u) => u.offset)).toEqual(captured.map((c) => c.offset));
    expect(daveHeard.texts).toEqual([]);

    await publish(alice, channel, 'welcome dave');
    await publish(bob, channel, 'hi dave'); // bob hands dave his key (at its current iteration) first
    await dave.sync();
    await until(() => daveHeard.texts.length === 2, 'dave reads both');
    expect(daveHeard.texts).toEqual(['welcome dave', 'hi dave']);

    // With every key dave now holds, the earlier ciphertext still does not open.
    const key = alice.encryptedChannel(channel)!.key;
    const daveKeys = await CryptoEngine.factory().restore(decodeProfile((await daveVault.load())!).engine);
    for (const publication of captured.slice(0, 2)) {
      await expect(daveKeys.groupDecrypt(publication.from, key, ciphertextOf(publication.payload))).rejects.toThrow();
    }
  });

  it('after a reconnect, replay with `since` decrypts what was published meanwhile; presence follows', async () => {
    const bobLine = droppable(server);
    const alice = await presenceUser('replay-alice', server.transportFactories());
    const bob = await presenceUser('replay-bob', bobLine.factories);
    const channel = await channelOf(alice, [bob]);
    const heard = listen(bob, channel);
    const online: boolean[] = [];
    alice.on('presence', (event) => {
      if (event.account === 'replay-bob') online.push(event.online);
    });
    await alice.watchPresence('replay-bob');
    await until(() => alice.isOnline('replay-bob'), 'bob online');

    await publish(alice, channel, 'while connected');
    await until(() => heard.texts.length === 1, 'the first publication');

    bobLine.goOffline();
    await until(() => bob.status.state !== 'connected', 'bob disconnected');
    await until(() => !alice.isOnline('replay-bob'), 'bob offline for alice');
    const missed = ['missed 1', 'missed 2', 'missed 3'];
    for (const text of missed) await publish(alice, channel, text);

    bobLine.goOnline();
    await until(() => bob.status.state === 'connected', 'bob reconnected');
    await until(() => heard.texts.length === 4, 'the missed publications replayed');
    expect(heard.texts).toEqual(['while connected', ...missed]);
    expect(heard.unreadable).toEqual([]);
    await until(() => alice.isOnline('replay-bob'), 'bob online again');
    expect(online).toContain(false);
    expect(online.at(-1)).toBe(true);
  });

  it('a member that restarts resumes after the last publication it processed, and decrypts what it missed', async () => {
    const { client: alice } = await user('restart-alice');
    const { client: bob, vault: bobVault } = await user('restart-bob');
    const channel = await channelOf(alice, [bob]);
    const heard = listen(bob, channel);
    await publish(alice, channel, 'before the restart');
    await until(() => heard.texts.length === 1, 'the first publication');
    await bob.close();

    await publish(alice, channel, 'while bob was closed');
    const { client: bobAgain } = await memoryClient(server, { vault: bobVault });
    clients.push(bobAgain);
    const heardAgain = listen(bobAgain, channel);
    await bobAgain.connect();
    await bobAgain.subscribeChannel(channel); // held as encrypted in the profile: no option needed
    await until(() => heardAgain.texts.length === 1, 'the missed publication');
    expect(heardAgain.texts).toEqual(['while bob was closed']);
    expect(heardAgain.unreadable).toEqual([]);
  });

  it('refuses what cannot be an encrypted channel, and never publishes a plaintext on one', async () => {
    const { client: alice } = await user('refuse-alice');
    await expect(alice.subscribeChannel('private:refuse-alice', { encrypted: true })).rejects.toSatisfy((e) =>
      PulseError.is(e, 'BAD_INPUT'),
    );
    await expect(alice.publish(newEncryptedChannelName(), encoder.encode('x'), { encrypted: true })).rejects.toSatisfy(
      (e) => PulseError.is(e, 'NOT_A_MEMBER'),
    );
    const channel = await channelOf(alice, []);
    const captured = await eavesdropper('refuse-eve', channel);
    await publish(alice, channel, 'no option given'); // held as encrypted: encrypted all the same
    await until(() => captured.length === 1, 'captured');
    expect(decoder.decode(captured[0]!.payload)).not.toContain('no option given');
    expect(() => ciphertextOf(captured[0]!.payload)).not.toThrow();
  });
});

async function presenceUser(name: string, factories: TransportFactories): Promise<PulseClient> {
  const client = await PulseClient.open({
    server: server.url,
    vault: new MemoryVault(),
    engine: CryptoEngine.factory(),
    factories,
    transport: 'websocket',
    presence: true,
    limits: { reconnectBaseMs: 50, reconnectMaxMs: 200 },
  });
  clients.push(client);
  await client.register(name);
  return client;
}

/** In-memory connections the test can take down (every attempt fails while offline) and bring back. */
function droppable(target: InProcessServer) {
  let offline = false;
  let current: MemoryConnection | undefined;
  const factories: TransportFactories = {
    direct: {
      kind: 'websocket',
      open: (events) => {
        current = target.connect(events);
        if (offline) current.cut('offline (test)');
        return current.client;
      },
    },
  };
  return {
    factories,
    goOffline() {
      offline = true;
      current?.cut('offline (test)');
    },
    goOnline() {
      offline = false;
    },
  };
}
