/**
 * Crash durability: the server (a child process on a real SQLite file) is killed
 * with SIGKILL at random moments while several senders ingest envelopes for one
 * recipient, and restarted on the same data directory each time. Properties
 * (PROTOCOL.md "Envelopes": `sent` only after the durable commit; delivery at
 * least once; clients deduplicate by envelopeId):
 * - every envelope answered `sent` is delivered;
 * - after deduplication by envelopeId, exactly once (no envelope stored twice);
 * - none corrupted: the payload's SHA-256 and its sender match what was sent.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { Frame } from '@pulse/proto';
import {
  type Device,
  dialWebSocket,
  FrameClientError,
  reconnect,
  register,
  type ServerProcess,
  TEST_CODEC,
} from '@pulse/testing';
import { answerPing } from '../lib/heartbeat.ts';
import { runMode, sized } from '../lib/mode.ts';
import { SuiteReport } from '../lib/report.ts';
import { median } from '../lib/stats.ts';
import { suiteServer } from '../lib/suite-server.ts';
import { sleep, temporaryDirectory } from '../lib/temporary.ts';

const mode = runMode();
const report = new SuiteReport('crash durability', mode);
const ENVELOPES = sized(mode, 10_000, 2_000);
const ROUNDS = sized(mode, 20, 4);
const SENDERS = 4;
/** Sends in flight per sender connection. */
const PIPELINE = 16;
/** After the last acknowledged envelope, how long the recipient may take to receive them all. */
const DRAIN_MS = 60_000;

/** What a payload says about itself: sender index (u16) and sequence number (u32), then random bytes. */
const HEADER_BYTES = 6;

function payloadFor(sender: number, sequence: number): Uint8Array {
  const payload = new Uint8Array(HEADER_BYTES + randomInt(32, 2048));
  const view = new DataView(payload.buffer);
  view.setUint16(0, sender);
  view.setUint32(2, sequence);
  payload.set(randomBytes(payload.length - HEADER_BYTES), HEADER_BYTES);
  return payload;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function keyOf(payload: Uint8Array): string {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return payload.length < HEADER_BYTES ? 'short' : `${view.getUint16(0)}:${view.getUint32(2)}`;
}

/** Everything the senders tried (key → hash) and what the server acknowledged (envelopeId → key). */
const attempted = new Map<string, { readonly hash: string; readonly sender: number }>();
const acked = new Map<string, string>();
/** What the recipient got: envelopeId → key, and every delivery counted. */
const delivered = new Map<string, string>();
let deliveries = 0;
let corrupted = 0;
let unexpectedErrors = 0;
const nextSequence = Array.from({ length: SENDERS }, () => 0);
let ackWaiter: { readonly target: number; readonly reached: () => void } | undefined;

async function sendUntilClosed(device: Device, sender: number, stopAt: number): Promise<void> {
  const lane = async () => {
    while (acked.size < stopAt) {
      const sequence = nextSequence[sender]!++;
      const payload = payloadFor(sender, sequence);
      attempted.set(`${sender}:${sequence}`, { hash: sha256(payload), sender });
      let answer: Frame;
      try {
        answer = await device.client.request({
          type: 'send',
          id: 0,
          to: recipient.account,
          envelopes: [{ deviceId: 1, payload }],
        });
      } catch (error) {
        if (error instanceof FrameClientError && error.code === 'CLOSED') return; // the server died
        throw error;
      }
      if (answer.type !== 'sent') {
        unexpectedErrors += 1;
        continue;
      }
      acked.set(answer.envelopeIds[0]!, `${sender}:${sequence}`);
      if (ackWaiter !== undefined && acked.size >= ackWaiter.target) ackWaiter.reached();
    }
  };
  await Promise.all(Array.from({ length: PIPELINE }, lane));
}

/** The recipient: checks each delivery against what was sent, acknowledges in batches. */
function receive(device: Device): void {
  let toAck: string[] = [];
  const take = (frame: Frame) => {
    answerPing(device.client, frame);
    if (frame.type !== 'deliver') return;
    deliveries += 1;
    const key = keyOf(frame.payload);
    const sent = attempted.get(key);
    if (
      sent === undefined ||
      sent.hash !== sha256(frame.payload) ||
      frame.from?.account !== senders[sent.sender]?.account
    ) {
      corrupted += 1;
    }
    const before = delivered.get(frame.envelopeId);
    if (before !== undefined && before !== key) corrupted += 1; // one id, two payloads
    delivered.set(frame.envelopeId, key);
    if (toAck.length === 0) {
      setImmediate(() => {
        device.client.send({ type: 'deliver_ack', envelopeIds: toAck });
        toAck = [];
      });
    }
    toAck.push(frame.envelopeId);
  };
  for (const frame of device.client.inbox.splice(0)) take(frame);
  device.client.takeUndecoded((bytes) => take(TEST_CODEC.decode(bytes)));
}

const dir = temporaryDirectory('crash');
const serverOptions = {
  dataDir: dir.path,
  webtransport: false,
  webClient: false,
  // Not an abuse test: the senders' pipelines must not meet the per-connection rate.
  limits: { rate: 100_000, rateBurst: 100_000, queuePerDevice: 100_000 },
} as const;

let server: ServerProcess = await suiteServer(serverOptions);
let open = dialWebSocket(server.websocketUrl);
const senders: Device[] = [];
for (let i = 0; i < SENDERS; i++) senders.push(await register(open));
const recipient = await register(open);
receive(recipient);

// Kill points: ROUNDS acknowledged counts spread at random over the ingest.
const killPoints = Array.from({ length: ROUNDS }, () => randomInt(1, ENVELOPES)).sort((a, b) => a - b);
const restartMs: number[] = [];
const started = performance.now();
for (let round = 0; round <= ROUNDS; round++) {
  if (round > 0) {
    const t0 = performance.now();
    server = await suiteServer({ ...serverOptions, httpPort: server.httpPort });
    restartMs.push(performance.now() - t0);
    open = dialWebSocket(server.websocketUrl);
    for (const device of senders) await reconnect(open, device);
    await reconnect(open, recipient);
    receive(recipient);
  }
  const last = round === ROUNDS;
  const sending = Promise.all(senders.map((device, i) => sendUntilClosed(device, i, ENVELOPES)));
  if (last) {
    await sending;
    break;
  }
  const target = killPoints[round]!;
  if (acked.size < target) await new Promise<void>((reached) => (ackWaiter = { target, reached }));
  ackWaiter = undefined;
  await sleep(randomInt(0, 20));
  server.kill('SIGKILL');
  await server.exited;
  await sending;
}
const ingestSeconds = (performance.now() - started) / 1000;

// Every acknowledged envelope must arrive: wait until it has (or the drain time is over).
const drainEnd = performance.now() + DRAIN_MS;
const missing = () => [...acked.keys()].filter((id) => !delivered.has(id));
while (missing().length > 0 && performance.now() < drainEnd) await sleep(100);
const lost = missing();

const keysDelivered = new Map<string, number>();
for (const key of delivered.values()) keysDelivered.set(key, (keysDelivered.get(key) ?? 0) + 1);
const storedTwice = [...keysDelivered.values()].filter((n) => n > 1).length;
const unacknowledgedButDelivered = [...delivered.keys()].filter((id) => !acked.has(id)).length;

report.figure('rounds (SIGKILL + restart)', ROUNDS);
report.figure('senders × pipeline', `${SENDERS} × ${PIPELINE}`);
report.figure('envelopes acknowledged (sent)', acked.size);
report.figure('envelopes attempted', attempted.size);
report.figure('sends in flight at the kills (never answered)', attempted.size - acked.size);
report.figure('of those, stored and delivered anyway', unacknowledgedButDelivered);
report.figure('deliveries (with redeliveries)', deliveries);
report.figure('redeliveries (unacked at a kill)', deliveries - delivered.size);
report.figure('restart to listening, median', median(restartMs), 'ms');
report.figure('wall time', ingestSeconds, 's');
report.figure('unexpected error answers', unexpectedErrors);

report.check(
  'every acknowledged envelope delivered',
  lost.length === 0,
  `${lost.length} of ${acked.size} missing${lost.length ? ` (e.g. ${lost.slice(0, 5).join(', ')})` : ''}`,
);
report.check(
  'exactly once after dedupe by envelopeId',
  storedTwice === 0,
  `${storedTwice} payloads stored under two envelope ids`,
);
report.check(
  'none corrupted',
  corrupted === 0,
  `${corrupted} deliveries whose bytes, hash or sender differ from what was sent`,
);
report.check('no error answers to valid sends', unexpectedErrors === 0, `${unexpectedErrors} error answers`);

await server.stop();
dir.remove();
report.finish();
