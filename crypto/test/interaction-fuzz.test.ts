/**
 * Interaction fuzzer (after libsignal's rust/protocol/fuzz/fuzz_targets/interaction.rs):
 * fast-check drives three parties through random sends, deliveries, drops, reorders,
 * duplicates, tampering and restarts from serialized state. The property: every
 * message decrypts exactly once, on its first delivery, to what was sent; every
 * duplicate, replay and tampered copy is refused with a CryptoError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  CryptoErrorCode,
  generateIdentityKeyPair,
  generateOneTimePreKeys,
  generatePqPreKey,
  generateSignedPreKey,
  type IdentityKeyPair,
  InMemoryPrekeyStore,
  type OneTimePreKey,
  type PqPreKey,
  type PreKeyBundle,
  SessionRecord,
  type SessionRecordOptions,
} from '../src/index.ts';

const PARTIES = 3;
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

interface Party {
  identity: IdentityKeyPair;
  store: InMemoryPrekeyStore;
  oneTime: OneTimePreKey[];
  pqOneTime: PqPreKey[];
  lastResort: PqPreKey;
  /** One record per peer. */
  records: Map<number, SessionRecord>;
  nextBundle: number;
}

interface Envelope {
  id: number;
  from: number;
  to: number;
  bytes: Uint8Array;
  text: string;
}

interface World {
  /**
   * 'session': the lower-numbered party of a pair initiates, and each record holds a single
   * session (no archive: a new initial message replaces it);
   * 'record': anyone may initiate, even both at once, and SessionRecord keeps both sessions.
   */
  mode: 'session' | 'record';
  parties: Party[];
  network: Envelope[];
  /** Message ids already decrypted once. */
  delivered: Set<number>;
  nextId: number;
  log: string[];
}

function makeParty(): Party {
  const identity = generateIdentityKeyPair();
  const signed = generateSignedPreKey(identity, 1);
  const lastResort = generatePqPreKey(identity, 1000, { lastResort: true });
  const pqOneTime = [generatePqPreKey(identity, 1001), generatePqPreKey(identity, 1002)];
  const oneTime = generateOneTimePreKeys(1, 4);
  const store = new InMemoryPrekeyStore().addSignedPreKey(signed).addPqPreKey(lastResort).addOneTimePreKeys(oneTime);
  for (const k of pqOneTime) store.addPqPreKey(k);
  return { identity, store, oneTime, pqOneTime, lastResort, records: new Map(), nextBundle: 0 };
}

/** What a server would hand out: one-time keys while they last, then only the last-resort PQ key. */
function bundleOf(p: Party): PreKeyBundle {
  const n = p.nextBundle++;
  const signed = p.store.getSignedPreKey(1)!;
  return {
    identityKey: p.identity.publicKey,
    signedPreKey: signed.toPublic(),
    oneTimePreKey: p.oneTime[n]?.toPublic(),
    pqPreKey: (p.pqOneTime[n] ?? p.lastResort).toPublic(),
  };
}

/** The lower-numbered party of a pair initiates; the other may only reply once it has a session. */
const isInitiator = (from: number, to: number) => from < to;

class SendCommand implements fc.AsyncCommand<object, World> {
  readonly from: number;
  readonly to: number;
  constructor(from: number, to: number) {
    this.from = from;
    this.to = to;
  }
  check = () => true;
  async run(_: object, w: World): Promise<void> {
    const sender = w.parties[this.from]!;
    const id = w.nextId;
    const text = `m${id} ${this.from}->${this.to}`;
    const record = recordOf(w, sender, this.to);
    if (!record.current) {
      if (w.mode === 'session' && !isInitiator(this.from, this.to)) return;
      await record.initiate(sender.identity, bundleOf(w.parties[this.to]!));
    }
    w.nextId++;
    w.network.push({
      id,
      from: this.from,
      to: this.to,
      bytes: await record.encrypt(new TextEncoder().encode(text)),
      text,
    });
    w.log.push(`send ${text}`);
  }
  toString = () => `send(${this.from}->${this.to})`;
}

/** 'session' mode keeps no archive: each record then behaves as one session with the peer. */
function recordOptions(w: World): SessionRecordOptions {
  return w.mode === 'session' ? { limits: { maxArchivedSessions: 0 } } : {};
}

function recordOf(w: World, owner: Party, peer: number): SessionRecord {
  let record = owner.records.get(peer);
  if (!record) {
    record = new SessionRecord(recordOptions(w));
    owner.records.set(peer, record);
  }
  return record;
}

async function deliver(w: World, env: Envelope, bytes: Uint8Array): Promise<Uint8Array> {
  const recipient = w.parties[env.to]!;
  return (await recordOf(w, recipient, env.from).decrypt(recipient.identity, recipient.store, bytes)).plaintext;
}

class DeliverCommand implements fc.AsyncCommand<object, World> {
  readonly pick: number;
  readonly keep: boolean;
  constructor(pick: number, keep: boolean) {
    this.pick = pick;
    this.keep = keep;
  }
  check = () => true;
  async run(_: object, w: World): Promise<void> {
    if (w.network.length === 0) return;
    const index = this.pick % w.network.length;
    const env = w.network[index]!;
    // keep = deliver a copy and leave the original in flight (a duplicate will follow).
    if (!this.keep) w.network.splice(index, 1);
    const first = !w.delivered.has(env.id);
    w.log.push(`deliver m${env.id} (${first ? 'first' : 'again'})`);
    if (first) {
      expect(dec(await deliver(w, env, env.bytes))).toBe(env.text);
      w.delivered.add(env.id);
    } else {
      const err = await deliver(w, env, env.bytes).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(CryptoError.is(err), `replay of m${env.id} must be refused`).toBe(true);
      expect([CryptoErrorCode.DuplicateMessage, CryptoErrorCode.UnknownPrekey]).toContain((err as CryptoError).code);
    }
  }
  toString = () => `deliver(${this.pick}${this.keep ? ', keep' : ''})`;
}

class TamperCommand implements fc.AsyncCommand<object, World> {
  readonly pick: number;
  readonly position: number;
  readonly bit: number;
  constructor(pick: number, position: number, bit: number) {
    this.pick = pick;
    this.position = position;
    this.bit = bit;
  }
  check = () => true;
  async run(_: object, w: World): Promise<void> {
    if (w.network.length === 0) return;
    const env = w.network[this.pick % w.network.length]!;
    const bad = env.bytes.slice();
    bad[this.position % bad.length]! ^= 1 << this.bit;
    w.log.push(`tamper m${env.id} at ${this.position % bad.length}`);
    const err = await deliver(w, env, bad).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(CryptoError.is(err), 'a tampered message must be refused').toBe(true);
  }
  toString = () => `tamper(${this.pick}, ${this.position}, ${this.bit})`;
}

class DropCommand implements fc.AsyncCommand<object, World> {
  readonly pick: number;
  constructor(pick: number) {
    this.pick = pick;
  }
  check = () => true;
  async run(_: object, w: World): Promise<void> {
    if (w.network.length === 0) return;
    const [env] = w.network.splice(this.pick % w.network.length, 1);
    w.log.push(`drop m${env!.id}`);
  }
  toString = () => `drop(${this.pick})`;
}

class RestartCommand implements fc.AsyncCommand<object, World> {
  readonly party: number;
  constructor(party: number) {
    this.party = party;
  }
  check = () => true;
  async run(_: object, w: World): Promise<void> {
    const p = w.parties[this.party]!;
    for (const [peer, record] of p.records) {
      const bytes = record.serialize();
      const restored = SessionRecord.deserialize(bytes, recordOptions(w));
      expect(restored.serialize()).toEqual(bytes);
      p.records.set(peer, restored);
    }
    w.log.push(`restart ${this.party}`);
  }
  toString = () => `restart(${this.party})`;
}

const party = fc.integer({ min: 0, max: PARTIES - 1 });
const commands = fc.commands(
  [
    fc
      .tuple(party, party)
      .filter(([a, b]) => a !== b)
      .map(([a, b]) => new SendCommand(a, b)),
    fc
      .tuple(party, party)
      .filter(([a, b]) => a !== b)
      .map(([a, b]) => new SendCommand(a, b)),
    fc.tuple(fc.nat(), fc.boolean()).map(([i, keep]) => new DeliverCommand(i, keep)),
    fc.nat().map((i) => new DeliverCommand(i, false)),
    fc.nat().map((i) => new DeliverCommand(i, false)),
    fc.nat().map((i) => new DropCommand(i)),
    fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([i, p, b]) => new TamperCommand(i, p, b)),
    party.map((p) => new RestartCommand(p)),
  ],
  { maxCommands: 80, size: 'large' },
);

describe('interaction fuzzer (fast-check model-based)', () => {
  for (const mode of ['session', 'record'] as const) {
    it(`every message decrypts exactly once; duplicates, replays and tampering are refused (${mode} mode)`, async () => {
      await fc.assert(
        fc.asyncProperty(commands, async (cmds) => {
          const world: World = {
            mode,
            parties: Array.from({ length: PARTIES }, makeParty),
            network: [],
            delivered: new Set(),
            nextId: 0,
            log: [],
          };
          await fc.asyncModelRun(() => ({ model: {}, real: world }), cmds);
          if (process.env.FUZZ_STATS) console.log(world.log.join(' | '));
          // Drain: whatever is still in flight must now decrypt (first time) or be refused (already seen).
          for (const env of world.network.splice(0)) {
            await new DeliverCommand(0, false).run({}, { ...world, network: [env] });
          }
        }),
        { numRuns: 40 },
      );
      // 40 runs of up to 80 commands: ≈20 s alone, more on a loaded machine; not a speed test.
    }, 120_000);
  }
});
