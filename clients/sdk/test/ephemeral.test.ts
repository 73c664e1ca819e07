/**
 * Typing indicators are ephemeral events (PROTOCOL.md "Ephemeral events"):
 * between two SDK clients through the real server (HTTP, WebSocket and
 * WebTransport listeners, a SQLite file), end-to-end encrypted, carried in
 * WebTransport datagrams when the connection has them, and never stored: the
 * database file is read before and after.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListeningServer } from '@pulse/testing';
import { createDevCertificate } from '@pulse/webtransport/node';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PulseClient, TransportKind } from '../src/index.ts';
import { memoryClient, until } from './helpers.ts';

// The real server over real sockets: generous when the machine is busy (the 2 cores are shared).
vi.setConfig({ hookTimeout: 120_000, testTimeout: 120_000 });

const BURST = 40;
let server: ListeningServer;
const clients: PulseClient[] = [];

beforeAll(async () => {
  server = await ListeningServer.start({ certificate: await createDevCertificate() });
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await server?.stop();
});

let users = 0;
async function user(transport: TransportKind) {
  const made = await memoryClient(server.baseUrl, { transport });
  clients.push(made.client);
  const name = `typist${process.pid}x${++users}`;
  await made.client.register(name);
  return { ...made, name };
}

/** What the server has on disk: the database and its write-ahead log, by hash, and the envelope rows. */
function database(): { files: Record<string, string>; envelopes: number } {
  const files: Record<string, string> = {};
  for (const name of ['pulse.db', 'pulse.db-wal']) {
    const path = join(server.dataDir, name);
    files[name] = existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'absent';
  }
  const db = new Database(join(server.dataDir, 'pulse.db'), { readonly: true });
  try {
    return { files, envelopes: db.prepare('SELECT count(*) FROM envelopes').pluck().get() as number };
  } finally {
    db.close();
  }
}

/** Waits until the database stops changing (acknowledgements deleted, receipts delivered), then reads it. */
async function quietDatabase(): Promise<ReturnType<typeof database>> {
  let last = database();
  for (let i = 0; i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = database();
    if (now.envelopes === 0 && JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  throw new Error('the database never settled');
}

/** One counter's value on the server's /metrics (the metrics listener). */
async function counter(event: string, transport: TransportKind): Promise<number> {
  const text = await (await fetch(server.metricsUrl)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('pulse_ephemeral_total{') &&
        l.includes(`event="${event}"`) &&
        l.includes(`transport="${transport}"`),
    );
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** Two users with a confirmed session: one message each way, everything acknowledged. */
async function pair(transport: TransportKind) {
  const alice = await user(transport);
  const bob = await user(transport);
  const sent = await alice.client.sendText(bob.name, 'hello');
  await bob.client.sync();
  await until(
    () => alice.client.messages(`user:${bob.name}`).find((m) => m.id === sent.id)?.status === 'delivered',
    'the receipt',
  );
  await alice.client.idle();
  await bob.client.idle();
  return { alice, bob };
}

describe.each(['websocket', 'webtransport'] as const)('typing over %s', (transport) => {
  it('a burst arrives, end to end encrypted, and the database is byte for byte unchanged', async () => {
    const { alice, bob } = await pair(transport);
    expect(alice.client.status.transport).toBe(transport);
    const seen: { from: string; conversation: string; typing: boolean }[] = [];
    bob.client.on('typing', (event) => seen.push(event));
    const before = await quietDatabase();
    const datagramsBefore = await counter('datagram_in', transport);

    for (let i = 0; i < BURST; i++) await alice.client.setTyping(bob.name, i % 2 === 0);
    await until(() => seen.length === BURST, `${BURST} typing events`);
    expect(seen.every((event) => event.from === alice.name && event.conversation === `user:${alice.name}`)).toBe(true);
    expect(seen.filter((event) => event.typing)).toHaveLength(BURST / 2);

    expect(database()).toEqual(before);
    const viaDatagrams = (await counter('datagram_in', transport)) - datagramsBefore;
    // WebTransport: every one went up in a datagram (WebSocket has none).
    expect(viaDatagrams).toBe(transport === 'webtransport' ? BURST : 0);
  });

  it('typing to an offline recipient is dropped, counted on /metrics, and never shows up later', async () => {
    const { alice, bob } = await pair(transport);
    await bob.client.close();
    const before = await quietDatabase();
    const offline = await counter('offline', transport);

    for (let i = 0; i < 5; i++) await alice.client.setTyping(bob.name, true);
    await expect.poll(() => counter('offline', transport)).toBe(offline + 5);
    expect(database()).toEqual(before);

    const { client: again } = await memoryClient(server.baseUrl, { transport, vault: bob.vault });
    clients.push(again);
    const seen: unknown[] = [];
    again.on('typing', (event) => seen.push(event));
    await again.connect();
    await again.sync();
    await again.idle();
    expect(seen).toEqual([]);
  });
});

describe('typing in a group', () => {
  it('reaches every other member that holds the sender key, and stores nothing', async () => {
    const [alice, bob, carol] = [await user('webtransport'), await user('webtransport'), await user('webtransport')];
    const group = await alice.client.createGroup('typists', [bob.name, carol.name]);
    await Promise.all([bob.client.sync(), carol.client.sync()]);
    await alice.client.sendGroupText(group.id, 'hello all');
    await Promise.all([bob.client.sync(), carol.client.sync()]);
    await Promise.all([alice.client.idle(), bob.client.idle(), carol.client.idle()]);
    const seen: { who: string; from: string; conversation: string; typing: boolean }[] = [];
    bob.client.on('typing', (event) => seen.push({ who: 'bob', ...event }));
    carol.client.on('typing', (event) => seen.push({ who: 'carol', ...event }));
    alice.client.on('typing', (event) => seen.push({ who: 'alice', ...event }));
    const before = await quietDatabase();

    await alice.client.setTyping(`group:${group.id}`, true);
    await until(() => seen.length === 2, 'both members see it');
    const conversation = `group:${group.id}`;
    expect(seen.sort((a, b) => a.who.localeCompare(b.who))).toEqual([
      { who: 'bob', from: alice.name, conversation, typing: true },
      { who: 'carol', from: alice.name, conversation, typing: true },
    ]);
    expect(database()).toEqual(before);
  });
});
