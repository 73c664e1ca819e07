/**
 * End-to-end encrypted 1:1 messages between two SDK clients over WebSocket to
 * a real server in this process (issue 15 "Speed work"): BURST texts are sent
 * at once (`sendText` pipelines) and the run ends when the receiver has shown
 * every one. Profiles are on FileVault (encrypted files, as the CLI keeps
 * them); the sender's saves are counted. Prints messages/s and saves per
 * message, for before/after figures from two trees run alternately.
 *
 *   node --import tsx server/bench/sdk-messages.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptoEngine, PulseClient, type StateVault } from '@pulse/sdk';
import { FileVault, nodeTransportFactories } from '@pulse/sdk/node';
import { ListeningServer } from '@pulse/testing';

const BURST = Number(process.env.BURST ?? 300);
/** SEQUENTIAL=1: each `sendText` awaited before the next (a user typing), instead of all at once. */
const SEQUENTIAL = process.env.SEQUENTIAL === '1';
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };

/** A vault that counts its saves. */
function counting(vault: StateVault): StateVault & { saves: number } {
  const counted = Object.assign(Object.create(vault) as StateVault, { saves: 0 });
  counted.save = (state) => {
    counted.saves++;
    return vault.save(state);
  };
  counted.load = () => vault.load();
  counted.close = () => vault.close();
  return counted;
}

async function run(): Promise<{ rate: number; savesPerMessage: number }> {
  const server = await ListeningServer.start({
    limits: {
      rate: 1_000_000,
      rateBurst: 1_000_000,
      authAttempts: 100_000,
      maxConnectionsPerIp: 100_000,
      anonymousSendRate: 1_000_000,
      anonymousSendBurst: 1_000_000,
      anonymousSendRatePerIp: 1_000_000,
      anonymousSendBurstPerIp: 1_000_000,
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'pulse-sdk-bench-'));
  const factories = await nodeTransportFactories();
  const open = async (name: string) => {
    const vault = counting(await FileVault.open(join(dir, name), 'bench', FAST_SCRYPT));
    const client = await PulseClient.open({
      server: server.baseUrl,
      vault,
      engine: CryptoEngine.factory(),
      factories,
      transport: 'websocket',
    });
    return { client, vault };
  };
  const alice = await open('alice');
  const bob = await open('bob');
  const suffix = `${process.pid}x${Date.now()}`;
  await alice.client.register(`alice${suffix}`);
  await bob.client.register(`bob${suffix}`);
  let received = 0;
  let expected = 1;
  let done: () => void = () => {};
  const arrived = () =>
    new Promise<void>((resolve) => {
      done = resolve;
    });
  bob.client.on('message', () => {
    if (++received === expected) done();
  });
  // The session is set up outside the measurement.
  let finished = arrived();
  await alice.client.sendText(`bob${suffix}`, 'hello');
  await finished;
  expected += BURST;
  finished = arrived();
  const savesBefore = alice.vault.saves;
  const started = performance.now();
  if (SEQUENTIAL) {
    for (let i = 0; i < BURST; i++) await alice.client.sendText(`bob${suffix}`, `message ${i}`);
  } else {
    await Promise.all(Array.from({ length: BURST }, (_, i) => alice.client.sendText(`bob${suffix}`, `message ${i}`)));
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const savesPerMessage = (alice.vault.saves - savesBefore) / BURST;
  await alice.client.close();
  await bob.client.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  return { rate: BURST / seconds, savesPerMessage };
}

for (let round = 0; round < ROUNDS; round++) {
  const { rate, savesPerMessage } = await run();
  console.log(
    `sdk 1:1 texts, ${SEQUENTIAL ? 'one after another' : 'burst'} of ${BURST}: ${Math.round(rate)} msgs/s, sender saves ${savesPerMessage.toFixed(2)} per message`,
  );
}
