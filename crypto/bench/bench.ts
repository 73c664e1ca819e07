/**
 * `npm run bench:crypto`: crypto/ beside libsignal-client in one process, same machine,
 * same 1 KiB messages. The two are measured in interleaved rounds (ours, theirs, theirs,
 * ours, …) so background load on the shared machine hits both alike. Prints throughput for
 * both and the ratios the issue sets as goals: alternating ≥ 1.0×, burst ≥ 1.5×, setup
 * time ≤ 2× libsignal's.
 */
import { fileURLToPath } from 'node:url';
import { defaultPrimitives, type PrimitivesName, primitivesByName, SessionRecord } from '../src/index.ts';
import { makeDevice } from '../src/testing/device.ts';
import { LibsignalParty } from './libsignal-party.ts';

const MESSAGE = new Uint8Array(1024).fill(7) as Uint8Array<ArrayBuffer>;
let ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
let CHUNK = Number(process.env.BENCH_CHUNK ?? 200);
let SETUPS_PER_ROUND = Number(process.env.BENCH_SETUPS ?? 10);
/** BENCH_PRIMITIVES=noble|webcrypto|node measures another platform path; default: the platform's best. */
const PRIMITIVES = process.env.BENCH_PRIMITIVES
  ? primitivesByName(process.env.BENCH_PRIMITIVES as PrimitivesName)
  : defaultPrimitives();

type Timed = () => Promise<number>;

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Runs both sides in alternating order per round and sums each side's milliseconds. */
async function interleaved(ours: Timed, theirs: Timed): Promise<{ ours: number; theirs: number }> {
  let a = 0;
  let b = 0;
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      a += await ours();
      b += await theirs();
    } else {
      b += await theirs();
      a += await ours();
    }
  }
  return { ours: a, theirs: b };
}

/** Two devices and their records with each other, set up by one exchange: the public 1:1 API as a client uses it. */
async function oursPair() {
  const alice = makeDevice();
  const bob = makeDevice();
  const atAlice = new SessionRecord({ primitives: PRIMITIVES });
  const atBob = new SessionRecord({ primitives: PRIMITIVES });
  await atAlice.initiate(alice.identity, bob.bundle());
  await atBob.decrypt(bob.identity, bob.store, await atAlice.encrypt(MESSAGE));
  await atAlice.decrypt(alice.identity, alice.store, await atBob.encrypt(MESSAGE));
  return {
    a: {
      encrypt: (m: Uint8Array) => atAlice.encrypt(m),
      decrypt: (m: Uint8Array) => atAlice.decrypt(alice.identity, alice.store, m),
    },
    b: {
      encrypt: (m: Uint8Array) => atBob.encrypt(m),
      decrypt: (m: Uint8Array) => atBob.decrypt(bob.identity, bob.store, m),
    },
  };
}

async function libsignalPair() {
  const alice = new LibsignalParty('alice');
  const bob = new LibsignalParty('bob');
  await alice.processBundle(bob, bob.makeBundle());
  await bob.decrypt(alice, await alice.encrypt(bob, MESSAGE));
  await alice.decrypt(bob, await bob.encrypt(alice, MESSAGE));
  return { alice, bob };
}

async function alternating() {
  const { a, b } = await oursPair();
  const { alice, bob } = await libsignalPair();
  return interleaved(
    () =>
      timed(async () => {
        for (let i = 0; i < CHUNK; i++) {
          if (i % 2 === 0) await b.decrypt(await a.encrypt(MESSAGE));
          else await a.decrypt(await b.encrypt(MESSAGE));
        }
      }),
    () =>
      timed(async () => {
        for (let i = 0; i < CHUNK; i++) {
          if (i % 2 === 0) await bob.decrypt(alice, await alice.encrypt(bob, MESSAGE));
          else await alice.decrypt(bob, await bob.encrypt(alice, MESSAGE));
        }
      }),
  );
}

async function burst() {
  const { a, b } = await oursPair();
  const { alice, bob } = await libsignalPair();
  return interleaved(
    () =>
      timed(async () => {
        const sent: Uint8Array[] = [];
        for (let i = 0; i < CHUNK; i++) sent.push(await a.encrypt(MESSAGE));
        for (const m of sent) await b.decrypt(m);
      }),
    () =>
      timed(async () => {
        const sent: Array<{ type: number; body: Uint8Array }> = [];
        for (let i = 0; i < CHUNK; i++) sent.push(await alice.encrypt(bob, MESSAGE));
        for (const m of sent) await bob.decrypt(alice, m);
      }),
  );
}

/**
 * Session setup: initiator processes a bundle and encrypts, responder accepts. Keys for every
 * run are generated before any timing (and a few setups of each run first as warm-up), so
 * neither key generation nor its garbage lands in the measured time.
 */
async function setup() {
  const ours = Array.from({ length: ROUNDS + 1 }, () =>
    Array.from({ length: SETUPS_PER_ROUND }, () => {
      const bob = makeDevice();
      return { alice: makeDevice(), bob, bundle: bob.bundle() };
    }),
  );
  const theirs = Array.from({ length: ROUNDS + 1 }, () =>
    Array.from({ length: SETUPS_PER_ROUND }, () => {
      const bob = new LibsignalParty('bob');
      return { alice: new LibsignalParty('alice'), bob, bundle: bob.makeBundle() };
    }),
  );
  const oursRun = () =>
    timed(async () => {
      for (const { alice, bob, bundle } of ours.pop()!) {
        const atAlice = new SessionRecord({ primitives: PRIMITIVES });
        await atAlice.initiate(alice.identity, bundle);
        await new SessionRecord({ primitives: PRIMITIVES }).decrypt(
          bob.identity,
          bob.store,
          await atAlice.encrypt(MESSAGE),
        );
      }
    });
  const theirsRun = () =>
    timed(async () => {
      for (const { alice, bob, bundle } of theirs.pop()!) {
        await alice.processBundle(bob, bundle);
        await bob.decrypt(alice, await alice.encrypt(bob, MESSAGE));
      }
    });
  await oursRun();
  await theirsRun();
  return interleaved(oursRun, theirsRun);
}

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')} msgs/s`;

/** Milliseconds each side spent, summed over the interleaved rounds, and what was done in them. */
export interface CryptoBenchResult {
  readonly primitives: string;
  readonly messages: number;
  readonly setups: number;
  readonly alternating: { ours: number; theirs: number };
  readonly burst: { ours: number; theirs: number };
  readonly setup: { ours: number; theirs: number };
}

/** Sizes of a run; the defaults come from BENCH_ROUNDS, BENCH_CHUNK and BENCH_SETUPS (npm run bench passes smaller ones with --quick). */
export interface CryptoBenchOptions {
  readonly rounds?: number;
  readonly chunk?: number;
  readonly setupsPerRound?: number;
}

/** The whole comparison (alternating, one-way burst, session setup), after a warm-up: what `npm run bench` calls. */
export async function measureCrypto(options: CryptoBenchOptions = {}): Promise<CryptoBenchResult> {
  ROUNDS = options.rounds ?? ROUNDS;
  CHUNK = options.chunk ?? CHUNK;
  SETUPS_PER_ROUND = options.setupsPerRound ?? SETUPS_PER_ROUND;
  // Warm-up (JIT, lazy native initialisation) before anything is measured.
  await (async () => {
    const { a, b } = await oursPair();
    const { alice, bob } = await libsignalPair();
    for (let i = 0; i < 200; i++) {
      await b.decrypt(await a.encrypt(MESSAGE));
      await bob.decrypt(alice, await alice.encrypt(bob, MESSAGE));
    }
  })();
  const alt = await alternating();
  const bur = await burst();
  const set = await setup();
  return {
    primitives: PRIMITIVES.name,
    messages: ROUNDS * CHUNK,
    setups: ROUNDS * SETUPS_PER_ROUND,
    alternating: alt,
    burst: bur,
    setup: set,
  };
}

/**
 * crypto/ alone, one way: `messages` 1 KiB messages encrypted by one side, then
 * decrypted by the other, in this process; messages per second. The ceiling an
 * end-to-end encrypted conversation between two clients on one core can reach.
 */
export async function oneWayBurstRate(messages: number): Promise<number> {
  const { a, b } = await oursPair();
  for (let i = 0; i < 200; i++) await b.decrypt(await a.encrypt(MESSAGE));
  const ms = await timed(async () => {
    const sent: Uint8Array[] = [];
    for (let i = 0; i < messages; i++) sent.push(await a.encrypt(MESSAGE));
    for (const m of sent) await b.decrypt(m);
  });
  return (messages / ms) * 1000;
}

async function main(): Promise<void> {
  console.log(
    `crypto/ primitives: ${PRIMITIVES.name}; 1 KiB messages; node ${process.version}; ${ROUNDS} interleaved rounds`,
  );
  const { alternating: alt, burst: bur, setup: set, messages: n, setups } = await measureCrypto();
  const altRatio = alt.theirs / alt.ours;
  const burstRatio = bur.theirs / bur.ours;
  const setupRatio = set.ours / set.theirs;
  const line = (label: string, ours: string, theirs: string, ratio: string, goal: string) =>
    console.log(`${label.padEnd(30)} ${ours.padStart(16)} ${theirs.padStart(18)} ${ratio.padStart(7)}   ${goal}`);
  line('', 'crypto/', 'libsignal-client', 'ratio', 'goal');
  line(
    `alternating (${n} msgs)`,
    rate(n, alt.ours),
    rate(n, alt.theirs),
    `${altRatio.toFixed(2)}×`,
    '≥ 1.0× throughput',
  );
  line(
    `one-way burst (${n} msgs)`,
    rate(n, bur.ours),
    rate(n, bur.theirs),
    `${burstRatio.toFixed(2)}×`,
    '≥ 1.5× throughput',
  );
  line(
    `session setup (${setups} runs)`,
    `${(set.ours / setups).toFixed(2)} ms`,
    `${(set.theirs / setups).toFixed(2)} ms`,
    `${setupRatio.toFixed(2)}×`,
    '≤ 2× libsignal time',
  );
  console.log(altRatio >= 1 && burstRatio >= 1.5 && setupRatio <= 2 ? 'all goals met' : 'goals NOT all met');
}

// `npm run bench:crypto` runs this file; `npm run bench` imports it.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
