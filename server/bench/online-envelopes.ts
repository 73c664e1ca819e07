/**
 * The 1:1 path to online devices (issue 15 "Speed work"): SENDERS connections
 * pipeline `send` (OUTSTANDING each) to RECIPIENTS online devices over
 * WebSocket; every recipient acknowledges what it receives, one `deliver_ack`
 * per envelope (ACK_BATCH=1, as the SDK did) or one per burst it read
 * (ACK_BATCH=0). Prints delivered envelopes/s and send → deliver latency
 * p50/p99, for profiling (`node --cpu-prof`) and for before/after figures:
 * run it from two trees alternately (the machine is shared and noisy).
 *
 *   node --import tsx server/bench/online-envelopes.ts
 */
import { type Device, dialWebSocket, ListeningServer, register, TEST_CODEC } from '@pulse/testing';

const SENDERS = Number(process.env.SENDERS ?? 10);
const RECIPIENTS = Number(process.env.RECIPIENTS ?? 10);
const ENVELOPES = Number(process.env.ENVELOPES ?? 6000);
const OUTSTANDING = Number(process.env.OUTSTANDING ?? 16);
const ACK_BATCH = process.env.ACK_BATCH !== '0';
const ROUNDS = Number(process.env.ROUNDS ?? 1);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(): Promise<{ rate: number; p50: number; p99: number }> {
  const server = await ListeningServer.start({
    limits: {
      rate: 1_000_000,
      rateBurst: 1_000_000,
      queuePerDevice: 1_000_000,
      authAttempts: 100_000,
      maxConnectionsPerIp: 100_000,
    },
  });
  const dial = dialWebSocket(server.websocketUrl);
  const recipients: Device[] = [];
  for (let i = 0; i < RECIPIENTS; i++) recipients.push(await register(dial));
  const senders: Device[] = [];
  for (let i = 0; i < SENDERS; i++) senders.push(await register(dial));

  const total = Math.ceil(ENVELOPES / SENDERS) * SENDERS;
  const latencies: number[] = [];
  let delivered = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  for (const recipient of recipients) {
    let pendingAcks: string[] = [];
    recipient.client.takeUndecoded((bytes) => {
      const frame = TEST_CODEC.decode(bytes);
      if (frame.type !== 'deliver') return;
      const sentAt = new DataView(frame.payload.buffer, frame.payload.byteOffset, 8).getFloat64(0);
      latencies.push(performance.now() - sentAt);
      if (!ACK_BATCH) {
        recipient.client.send({ type: 'deliver_ack', envelopeIds: [frame.envelopeId] });
      } else {
        if (pendingAcks.length === 0) {
          setImmediate(() => {
            recipient.client.send({ type: 'deliver_ack', envelopeIds: pendingAcks });
            pendingAcks = [];
          });
        }
        pendingAcks.push(frame.envelopeId);
      }
      if (++delivered === total) done();
    });
  }

  const started = performance.now();
  await Promise.all(
    senders.map(async (sender, s) => {
      let next = 0;
      const worker = async () => {
        while (next < total / SENDERS) {
          const n = next++;
          const to = recipients[(s + n) % recipients.length]!;
          const payload = new Uint8Array(256);
          new DataView(payload.buffer).setFloat64(0, performance.now());
          await sender.client.expect(
            { type: 'send', id: 0, to: to.account, envelopes: [{ deviceId: 1, payload }] },
            'sent',
          );
        }
      };
      await Promise.all(Array.from({ length: OUTSTANDING }, worker));
    }),
  );
  await finished;
  const seconds = (performance.now() - started) / 1000;
  for (const device of [...senders, ...recipients]) device.client.close();
  await server.stop();
  latencies.sort((a, b) => a - b);
  return { rate: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

for (let round = 0; round < ROUNDS; round++) {
  const { rate, p50, p99 } = await run();
  console.log(
    `online envelopes: ${SENDERS} senders x ${OUTSTANDING} outstanding -> ${RECIPIENTS} devices, acks ${ACK_BATCH ? 'per burst' : 'per envelope'}: ` +
      `${Math.round(rate)} delivered/s, send->deliver p50 ${p50.toFixed(2)} ms p99 ${p99.toFixed(2)} ms`,
  );
}
