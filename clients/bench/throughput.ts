/**
 * End-to-end message throughput of the client SDK through a real server, over
 * WebTransport and over WebSocket, in one run (so the figures compare):
 * alice sends N encrypted 1:1 messages to bob; the clock stops when bob has
 * decrypted, stored and acknowledged the last one. Also the pure crypto cost
 * (encrypt + decrypt of the same messages without any network) as a floor.
 *
 *   node --import tsx clients/bench/throughput.ts [messages]
 */

import { CryptoEngine, MemoryVault, PulseClient, type TransportKind } from '@pulse/sdk';
import { nodeTransportFactories } from '@pulse/sdk/node';
import { spawnServer } from '@pulse/testing';

const N = Number(process.argv[2] ?? 300);
const ROUNDS = 3;

async function run(server: string, transport: TransportKind, round: number): Promise<number> {
  const factories = await nodeTransportFactories();
  const open = () =>
    PulseClient.open({ server, vault: new MemoryVault(), engine: CryptoEngine.factory(), factories, transport });
  const [alice, bob] = await Promise.all([open(), open()]);
  try {
    await alice.register(`bench-a-${transport === 'webtransport' ? 'wt' : 'ws'}-${round}`);
    await bob.register(`bench-b-${transport === 'webtransport' ? 'wt' : 'ws'}-${round}`);
    const to = bob.account!;
    await alice.sendText(to, 'warm-up'); // builds the session
    await bob.sync();
    let received = 0;
    const done = new Promise<void>((resolve) =>
      bob.on('message', () => {
        if (++received === N) resolve();
      }),
    );
    const started = performance.now();
    await Promise.all(Array.from({ length: N }, (_, i) => alice.sendText(to, `message ${i} ${'x'.repeat(100)}`)));
    await done;
    await bob.idle();
    return N / ((performance.now() - started) / 1000);
  } finally {
    await alice.close();
    await bob.close();
  }
}

async function cryptoFloor(): Promise<number> {
  const factory = CryptoEngine.factory();
  const [a, b] = await Promise.all([factory.create(), factory.create()]);
  const upload = await b.generatePreKeys(1, true);
  await a.startSession(
    { account: 'b', deviceId: 1 },
    {
      deviceId: 1,
      identityKey: b.identityKey,
      signedPreKey: upload.signedPreKey!,
      pqPreKey: upload.pqOneTimePreKeys![0]!,
      pqPreKeyIsLastResort: false,
      oneTimePreKey: upload.oneTimePreKeys![0]!,
    },
  );
  const plaintext = new TextEncoder().encode(`{"t":"text","text":"${'x'.repeat(100)}"}`);
  const first = await a.encrypt({ account: 'b', deviceId: 1 }, plaintext);
  await b.decrypt({ account: 'a', deviceId: 1 }, first);
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    await b.decrypt({ account: 'a', deviceId: 1 }, await a.encrypt({ account: 'b', deviceId: 1 }, plaintext));
  }
  return N / ((performance.now() - started) / 1000);
}

const server = await spawnServer({
  limits: {
    rate: 100_000,
    rateBurst: 100_000,
    anonymousSendRate: 100_000,
    anonymousSendBurst: 100_000,
    anonymousSendRatePerIp: 100_000,
    anonymousSendBurstPerIp: 100_000,
  },
});
try {
  const results: Record<string, number[]> = { webtransport: [], websocket: [] };
  // Interleaved rounds: a busy moment on the shared machine hits both transports alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const transport of ['websocket', 'webtransport'] as const) {
      results[transport]!.push(await run(server.baseUrl, transport, round));
    }
  }
  const best = (list: number[]) => Math.max(...list);
  const floor = await cryptoFloor();
  const ws = best(results.websocket!);
  const wt = best(results.webtransport!);
  console.log(`clients end-to-end, ${N} encrypted 1:1 messages (best of ${ROUNDS} interleaved rounds):`);
  console.log(`  WebSocket     ${ws.toFixed(0)} msgs/s`);
  console.log(`  WebTransport  ${wt.toFixed(0)} msgs/s   (${(wt / ws).toFixed(2)}× WebSocket)`);
  console.log(`  crypto only   ${floor.toFixed(0)} msgs/s   (encrypt + decrypt, no network: the ceiling)`);
  console.log(`  WebSocket reaches ${((ws / floor) * 100).toFixed(0)}% of the crypto ceiling`);
} finally {
  await server.stop();
}
