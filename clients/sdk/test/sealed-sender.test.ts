import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ServerProcess, spawnServer } from '@pulse/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_CLIENT_LIMITS,
  fetchServerInfo,
  type PulseClient,
  type StoredMessage,
  type TransportPreference,
} from '../src/index.ts';
import { memoryClient, until } from './helpers.ts';

// The real server process over real sockets: generous when the machine is busy (the 2 cores are shared).
vi.setConfig({ hookTimeout: 120_000, testTimeout: 120_000 });

/**
 * Sealed sender end to end (PROTOCOL.md "Sealed sender"): two SDK clients on the
 * server process, over WebSocket and over WebTransport. Their first exchange is
 * plain and carries each one's profile key; from then on every envelope
 * between them (texts, receipts, group updates, sender keys, group messages)
 * goes sealed, and the server's SQLite file holds no sender for them.
 */
let server: ServerProcess;
const clients: PulseClient[] = [];

beforeAll(async () => {
  server = await spawnServer({ webtransport: true });
});
afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await server?.stop();
});

/** The server's SQLite file as whoever takes over the server reads it. */
function envelopeRows(recipient: string): { sender: string | null; sender_device: number | null; payload: Buffer }[] {
  const db = new Database(join(server.dataDir, 'pulse.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT sender, sender_device, payload FROM envelopes WHERE account = ?').all(recipient) as {
      sender: string | null;
      sender_device: number | null;
      payload: Buffer;
    }[];
  } finally {
    db.close();
  }
}

type Options = NonNullable<Parameters<typeof memoryClient>[1]>;

async function open(transport: TransportPreference, vault?: Options['vault'], options: Options = {}) {
  const made = await memoryClient(server.baseUrl, { transport, ...options, ...(vault === undefined ? {} : { vault }) });
  clients.push(made.client);
  return made;
}

function messagesOf(client: PulseClient): StoredMessage[] {
  const received: StoredMessage[] = [];
  client.on('message', (m) => received.push(m));
  return received;
}

describe('the trust root', () => {
  it('is published by /pulse/info as the key file holds it, and the key file is mode 0600', async () => {
    const path = join(server.dataDir, 'sealed-sender-keys');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(path, 'utf8')) as { trustRoot: { publicKey: string } };
    const info = await fetchServerInfo(server.baseUrl, DEFAULT_CLIENT_LIMITS);
    expect(info.sealedSenderTrustRoot).toEqual(new Uint8Array(Buffer.from(file.trustRoot.publicKey, 'base64')));
  });
});

for (const transport of ['websocket', 'webtransport'] as const) {
  describe(`sealed sender over ${transport}`, () => {
    it('a conversation, both ways and in a group, leaves no sender in the database', async () => {
      const suffix = `${transport.slice(0, 2)}${Date.now().toString(36)}`;
      const [aliceName, bobName] = [`sa-${suffix}`, `sb-${suffix}`];
      const { client: alice, vault: aliceVault } = await open(transport);
      const { client: bob, vault: bobVault } = await open(transport);
      await alice.register(aliceName);
      await bob.register(bobName);
      const problems: string[] = [];
      for (const client of [alice, bob]) client.on('problem', (p) => problems.push(p.reason));

      // First contact is plain (no token yet); the text carries alice's profile key, bob's receipt his.
      const receipts: string[] = [];
      alice.on('receipt', (r) => receipts.push(...r.ids));
      const first = await alice.sendText(bobName, 'hello, plainly');
      await until(() => receipts.includes(first.id), 'the receipt of the first message');
      await bob.idle();

      // Bob offline: what alice sends now waits in the database, where it names no sender.
      await bob.close();
      const group = await alice.createGroup('sealed-room', [bobName]);
      await alice.sendText(bobName, 'sealed from alice');
      await alice.sendGroupText(group.id, 'sealed to the group');
      const forBob = envelopeRows(bobName);
      expect(forBob.length).toBeGreaterThanOrEqual(3);
      for (const row of forBob) {
        expect(row.sender).toBeNull();
        expect(row.sender_device).toBeNull();
        expect(row.payload.includes(Buffer.from(aliceName))).toBe(false);
      }

      const { client: bobAgain } = await open(transport, bobVault);
      bobAgain.on('problem', (p) => problems.push(p.reason));
      const bobReceived = messagesOf(bobAgain);
      await bobAgain.connect();
      await bobAgain.sync();
      await until(() => bobReceived.length >= 2, 'the sealed messages');
      expect(bobReceived.map((m) => [m.from, m.text]).sort()).toEqual([
        [aliceName, 'sealed from alice'],
        [aliceName, 'sealed to the group'],
      ]);
      await bobAgain.idle();

      // And the other way: alice offline, bob answers 1:1 and in the group.
      await alice.close();
      await bobAgain.sendText(aliceName, 'sealed from bob');
      await bobAgain.sendGroupText(group.id, 'sealed from bob to the group');
      const forAlice = envelopeRows(aliceName);
      expect(forAlice.length).toBeGreaterThanOrEqual(2);
      for (const row of forAlice) {
        expect(row.sender).toBeNull();
        expect(row.payload.includes(Buffer.from(bobName))).toBe(false);
      }
      const { client: aliceAgain } = await open(transport, aliceVault);
      aliceAgain.on('problem', (p) => problems.push(p.reason));
      const aliceReceived = messagesOf(aliceAgain);
      await aliceAgain.connect();
      await aliceAgain.sync();
      await until(() => aliceReceived.length >= 2, 'the sealed answers');
      expect(aliceReceived.map((m) => [m.from, m.text]).sort()).toEqual([
        [bobName, 'sealed from bob'],
        [bobName, 'sealed from bob to the group'],
      ]);
      await aliceAgain.idle();
      expect(problems).toEqual([]);
    });
  });
}

describe('a delivery token the server refuses', () => {
  it('is forgotten, and the same message goes plain and arrives', async () => {
    const suffix = Date.now().toString(36);
    const [eveName, frankName] = [`se-${suffix}`, `sf-${suffix}`];
    const { client: eve } = await open('websocket');
    const { client: frank, vault: frankVault } = await open('websocket');
    await eve.register(eveName);
    await frank.register(frankName);
    const receipts: string[] = [];
    eve.on('receipt', (r) => receipts.push(...r.ids));
    const first = await eve.sendText(frankName, 'hello');
    await until(() => receipts.includes(first.id), 'the receipt');
    await frank.idle();
    await frank.close();

    // The server lost frank's token (a restored backup, say): eve's sealed send is UNAUTHORIZED.
    const db = new Database(join(server.dataDir, 'pulse.db'));
    db.pragma('busy_timeout = 5000');
    db.prepare('DELETE FROM delivery_tokens WHERE account = ?').run(frankName);
    db.close();
    const second = await eve.sendText(frankName, 'after the token was lost');
    expect(second.status).toBe('sent');
    expect(envelopeRows(frankName).map((row) => row.sender)).toEqual([eveName]);
    const { client: frankAgain } = await open('websocket', frankVault);
    const received = messagesOf(frankAgain);
    await frankAgain.connect();
    await frankAgain.sync();
    await until(() => received.length === 1, 'the message');
    expect(received[0]?.text).toBe('after the token was lost');
  });
});

describe('sealed sender turned off (SDK option sealedSender: false)', () => {
  it('sends plain, so the stored envelopes name their sender, and still receives sealed ones', async () => {
    const suffix = Date.now().toString(36);
    const [carolName, daveName] = [`sc-${suffix}`, `sd-${suffix}`];
    const { client: carol } = await open('websocket', undefined, { sealedSender: false });
    const { client: dave, vault: daveVault } = await open('websocket');
    await carol.register(carolName);
    await dave.register(daveName);
    const receipts: string[] = [];
    carol.on('receipt', (r) => receipts.push(...r.ids));
    const first = await carol.sendText(daveName, 'hello');
    await until(() => receipts.includes(first.id), 'the receipt');
    await dave.idle();
    await dave.close();
    await carol.sendText(daveName, 'still plain');
    expect(envelopeRows(daveName).map((row) => row.sender)).toEqual([carolName]);

    // Dave's side is on: what he sends carol is sealed, and carol reads it.
    const { client: daveAgain } = await open('websocket', daveVault);
    await daveAgain.connect();
    await daveAgain.sync();
    await carol.close();
    await daveAgain.sendText(carolName, 'sealed to carol');
    // The text, and the receipt for "still plain" if carol left before it arrived: all sealed.
    const forCarol = envelopeRows(carolName).map((row) => row.sender);
    expect(forCarol.length).toBeGreaterThanOrEqual(1);
    expect(new Set(forCarol)).toEqual(new Set([null]));
  });
});
