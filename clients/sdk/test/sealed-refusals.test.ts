import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  IdentityKeyPair,
  SenderCertificate,
  ServerCertificate,
  sealedSenderEncrypt,
  UnidentifiedSenderMessageContent,
} from '@pulse/crypto';
import { SqliteStore } from '@pulse/server';
import { InProcessServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeContent, sessionPayload } from '../src/content.ts';
import { CryptoEngine, type E2EEngine, type MemoryVault, type PulseClient, type StoredMessage } from '../src/index.ts';
import { decodeProfile } from '../src/profile.ts';
import { memoryClient, until } from './helpers.ts';

/**
 * What a recipient refuses of sealed envelopes (PROTOCOL.md "Sealed sender"):
 * a certificate past its expiry at the envelope's server time, one under
 * another trust root, one whose key is not the sender's session key. The
 * envelopes are put straight into the server's store, as a server (or whoever
 * took it over) could: each one is acknowledged and reported as a problem,
 * never shown. A genuine one made the same way is shown, so the refusals are
 * the checks' doing, not the harness's.
 */
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'pulse-sealed-refusals-'));
let store: SqliteStore;
let server: InProcessServer;
const clients: PulseClient[] = [];

beforeAll(() => {
  store = new SqliteStore(join(dir, 'pulse.db'));
  server = InProcessServer.start({ store });
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The server's key and certificate, read from its key file as whoever holds the server can. */
function serverSigner(): { key: IdentityKeyPair; certificate: ServerCertificate } {
  const file = JSON.parse(readFileSync(join(server.dataDir, 'sealed-sender-keys'), 'utf8')) as {
    server: { keyPair: string; certificate: string };
  };
  return {
    key: IdentityKeyPair.deserialize(new Uint8Array(Buffer.from(file.server.keyPair, 'base64'))),
    certificate: ServerCertificate.deserialize(new Uint8Array(Buffer.from(file.server.certificate, 'base64'))),
  };
}

async function user(name: string): Promise<{ client: PulseClient; vault: MemoryVault }> {
  const made = await memoryClient(server, { sealedSenderTrustRoot: server.node.sealedSenderTrustRoot });
  clients.push(made.client);
  await made.client.register(name);
  return made;
}

/** A copy of a client's keys and sessions, from its saved profile. */
async function engineOf(vault: MemoryVault): Promise<E2EEngine> {
  const saved = await vault.load();
  if (saved === undefined) throw new Error('nothing saved');
  return CryptoEngine.factory().restore(decodeProfile(saved).engine);
}

describe('a recipient refuses sealed envelopes that do not check out', () => {
  it('an expired certificate, one from another trust root, one not naming the session key; a genuine one is shown', async () => {
    const { client: alice, vault: aliceVault } = await user('refusal-alice');
    const { client: bob } = await user('refusal-bob');
    const receipts: string[] = [];
    alice.on('receipt', (r) => receipts.push(...r.ids));
    const first = await alice.sendText('refusal-bob', 'hello');
    await until(() => receipts.includes(first.id), 'the receipt');
    await bob.idle();
    await alice.close();

    const shown: StoredMessage[] = [];
    const problems: { from: string; reason: string }[] = [];
    bob.on('message', (m) => shown.push(m));
    bob.on('problem', (p) => problems.push(p));
    const aliceCopy = await engineOf(aliceVault);
    const bobDevice = { account: 'refusal-bob', deviceId: 1 };
    const signer = serverSigner();
    const certificate = (identityKey: Uint8Array, expiresAt: number, by = signer) =>
      SenderCertificate.issue(
        { account: 'refusal-alice', deviceId: 1, identityKey, expiresAt },
        by.certificate,
        by.key,
      ).serialize();
    /** Alice's session encrypts `text`, as her next message would be. */
    const inner = async (text: string) =>
      sessionPayload(
        await aliceCopy.encrypt(
          bobDevice,
          encodeContent({ t: 'text', id: `m${shown.length}${problems.length}${text.length}`, text, sentAt: 1 }),
        ),
      );
    const deliver = async (payload: Uint8Array) => {
      const now = Date.now();
      await store.appendEnvelopes([
        {
          from: undefined,
          to: 'refusal-bob',
          envelopes: [{ deviceId: 1, payload }],
          serverTime: now,
          expiresAt: now + DAY,
          deviceIds: [1],
          queuedAtMost: [1_000],
        },
      ]);
      await bob.sync();
      await bob.idle();
      // Refused or not, the envelope is acknowledged: the store lets it go.
      for (let waited = 0; (await store.queueLength('refusal-bob', 1)) > 0; waited += 10) {
        if (waited > 30_000) throw new Error('the envelope was never acknowledged');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };

    // 1. Expired: valid until a minute before the server stored it.
    const expired = certificate(aliceCopy.identityKey, Date.now() - 60_000);
    await deliver((await aliceCopy.seal(bobDevice, expired, { type: 'message', payload: await inner('stale') }))!);
    expect(problems.at(-1)?.reason).toMatch(/expired/);

    // 2. Another trust root: a root and server key the client never pinned.
    const otherRoot = IdentityKeyPair.generate();
    const otherKey = IdentityKeyPair.generate();
    const other = { key: otherKey, certificate: ServerCertificate.issue(1, otherKey.publicKey, otherRoot) };
    const foreign = certificate(aliceCopy.identityKey, Date.now() + DAY, other);
    await deliver((await aliceCopy.seal(bobDevice, foreign, { type: 'message', payload: await inner('foreign') }))!);
    expect(problems.at(-1)?.reason).toMatch(/trusted root/);

    // 3. A genuine certificate for alice's device, but naming (and sealed by) another key than her session's.
    const mallory = IdentityKeyPair.generate();
    const mismatched = new UnidentifiedSenderMessageContent({
      type: 'message',
      senderCertificate: SenderCertificate.deserialize(certificate(mallory.publicKey, Date.now() + DAY)),
      content: await inner('impostor'),
    });
    await deliver(await sealedSenderEncrypt(mismatched, { sender: mallory, recipientIdentityKey: bob.identityKey }));
    expect(problems.at(-1)?.reason).toMatch(/not the one this session belongs to/);

    expect(problems.map((p) => p.from)).toEqual(['sealed', 'sealed', 'sealed']);
    expect(shown).toEqual([]);

    // 4. The same construction with everything right is read, from alice.
    const valid = certificate(aliceCopy.identityKey, Date.now() + DAY);
    await deliver((await aliceCopy.seal(bobDevice, valid, { type: 'message', payload: await inner('genuine') }))!);
    expect(shown.map((m) => [m.from, m.text])).toEqual([['refusal-alice', 'genuine']]);
    expect(problems).toHaveLength(3);
  });
});
