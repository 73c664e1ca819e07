/**
 * `npm run bench:crypto`: crypto/ beside libsignal-client in one process, same machine,
 * same message sizes. Prints throughput for both and the ratios the issue sets as goals:
 * alternating ≥ 1.0×, burst ≥ 1.5×, setup time ≤ 2× libsignal's.
 */
import { getPrimitives, Session } from '../src/index.ts';
import { makeDevice } from '../test/helpers.ts';
import { LibsignalParty } from './libsignal-party.ts';

const MESSAGE = new Uint8Array(1024).fill(7) as Uint8Array<ArrayBuffer>;
const ALTERNATING = Number(process.env.BENCH_ALTERNATING ?? 2000);
const BURST = Number(process.env.BENCH_BURST ?? 2000);
const SETUPS = Number(process.env.BENCH_SETUPS ?? 100);

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function oursPair() {
  const alice = makeDevice();
  const bob = makeDevice();
  const a = await Session.initiate(alice.identity, bob.bundle());
  const { session: b } = await Session.accept(bob.identity, bob.store, await a.encrypt(MESSAGE));
  await a.decrypt(await b.encrypt(MESSAGE));
  return { a, b };
}

async function libsignalPair() {
  const alice = new LibsignalParty('alice');
  const bob = new LibsignalParty('bob');
  await alice.processBundle(bob, bob.makeBundle());
  await bob.decrypt(alice, await alice.encrypt(bob, MESSAGE));
  await alice.decrypt(bob, await bob.encrypt(alice, MESSAGE));
  return { alice, bob };
}

async function oursAlternating(n: number): Promise<number> {
  const { a, b } = await oursPair();
  return timed(async () => {
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) await b.decrypt(await a.encrypt(MESSAGE));
      else await a.decrypt(await b.encrypt(MESSAGE));
    }
  });
}

async function libsignalAlternating(n: number): Promise<number> {
  const { alice, bob } = await libsignalPair();
  return timed(async () => {
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) await bob.decrypt(alice, await alice.encrypt(bob, MESSAGE));
      else await alice.decrypt(bob, await bob.encrypt(alice, MESSAGE));
    }
  });
}

async function oursBurst(n: number): Promise<number> {
  const { a, b } = await oursPair();
  return timed(async () => {
    const sent: Uint8Array[] = [];
    for (let i = 0; i < n; i++) sent.push(await a.encrypt(MESSAGE));
    for (const m of sent) await b.decrypt(m);
  });
}

async function libsignalBurst(n: number): Promise<number> {
  const { alice, bob } = await libsignalPair();
  return timed(async () => {
    const sent: Array<{ type: number; body: Uint8Array }> = [];
    for (let i = 0; i < n; i++) sent.push(await alice.encrypt(bob, MESSAGE));
    for (const m of sent) await bob.decrypt(alice, m);
  });
}

/** Session setup: initiator processes a bundle and encrypts; responder accepts (key generation excluded). */
async function oursSetup(n: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const alice = makeDevice();
    const bob = makeDevice();
    const bundle = bob.bundle();
    total += await timed(async () => {
      const a = await Session.initiate(alice.identity, bundle);
      await Session.accept(bob.identity, bob.store, await a.encrypt(MESSAGE));
    });
  }
  return total;
}

async function libsignalSetup(n: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const alice = new LibsignalParty('alice');
    const bob = new LibsignalParty('bob');
    const bundle = bob.makeBundle();
    total += await timed(async () => {
      await alice.processBundle(bob, bundle);
      await bob.decrypt(alice, await alice.encrypt(bob, MESSAGE));
    });
  }
  return total;
}

function rate(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString('en-US')} msgs/s`;
}

async function main(): Promise<void> {
  console.log(`crypto/ primitives: ${getPrimitives().name}; 1 KiB messages; node ${process.version}`);
  // Warm up both (JIT, lazy native init), then measure.
  await oursAlternating(200);
  await libsignalAlternating(200);
  await oursSetup(5);
  await libsignalSetup(5);

  const altOurs = await oursAlternating(ALTERNATING);
  const altTheirs = await libsignalAlternating(ALTERNATING);
  const burstOurs = await oursBurst(BURST);
  const burstTheirs = await libsignalBurst(BURST);
  const setupOurs = await oursSetup(SETUPS);
  const setupTheirs = await libsignalSetup(SETUPS);

  const altRatio = altTheirs / altOurs;
  const burstRatio = burstTheirs / burstOurs;
  const setupRatio = setupOurs / setupTheirs;
  const line = (label: string, ours: string, theirs: string, ratio: string, goal: string) =>
    console.log(`${label.padEnd(28)} ${ours.padStart(18)} ${theirs.padStart(18)} ${ratio.padStart(8)}   ${goal}`);
  line('', 'crypto/', 'libsignal-client', 'ratio', 'goal');
  line(
    `alternating (${ALTERNATING} msgs)`,
    rate(ALTERNATING, altOurs),
    rate(ALTERNATING, altTheirs),
    `${altRatio.toFixed(2)}×`,
    '≥ 1.0× throughput',
  );
  line(
    `one-way burst (${BURST} msgs)`,
    rate(BURST, burstOurs),
    rate(BURST, burstTheirs),
    `${burstRatio.toFixed(2)}×`,
    '≥ 1.5× throughput',
  );
  line(
    `session setup (${SETUPS} runs)`,
    `${(setupOurs / SETUPS).toFixed(2)} ms`,
    `${(setupTheirs / SETUPS).toFixed(2)} ms`,
    `${setupRatio.toFixed(2)}×`,
    '≤ 2× time',
  );
  const met = altRatio >= 1 && burstRatio >= 1.5 && setupRatio <= 2;
  console.log(met ? 'all goals met' : 'goals NOT all met');
}

await main();
