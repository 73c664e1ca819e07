import { NatsServer } from '@pulse/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsChannelLog } from '../../src/edge/cluster/channels/nats-channel-log.ts';
import { channelLogSuite, ROOMY } from '../core/channels/channel-log-suite.ts';

let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start();
  await nats.jetstreamReady();
}, 60_000);
afterAll(async () => {
  await nats?.remove();
});

let logs = 0;
const subjectKey = new TextEncoder().encode('test channel subjects');
/** A log on its own stream and bucket (a prefix per log): tests share the nats-server, not their channels. */
const natsLog = (budget = ROOMY, prefix = `t${++logs}`) =>
  new NatsChannelLog({ servers: [nats.url], replicas: 1, budget, subjectKey, prefix });

// JetStream counts whole messages in max_bytes and keeps no per-account share nor a bound on positions
// (heads expire after history_age instead): those budgets are SQLite's and memory's (nats-channel-log.ts).
channelLogSuite('NATS JetStream', (budget) => natsLog(budget), {
  payloadBytes: false,
  perAccountShare: false,
  positionBound: false,
});

const record = (n: number) => ({ account: 'alice', deviceId: 1, serverTime: 1000 + n, payload: new Uint8Array([n]) });

describe('NATS channel log across nodes', () => {
  it('gives one channel dense offsets when two nodes append at once, and both read them all', async () => {
    const a = natsLog(ROOMY, 'shared');
    const b = natsLog(ROOMY, 'shared');
    const positions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).append('public:both', record(i))),
    );
    expect(positions.map((p) => p.offset).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(positions.map((p) => p.epoch)).size).toBe(1);
    for (const log of [a, b]) {
      const read = await log.read('public:both', 0, 100, 1020);
      expect(read.complete).toBe(true);
      expect(read.entries.map((entry) => entry.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
    await a.close();
    await b.close();
  });

  it('keeps the channel name out of the subject (a keyed hash) and the epoch across a log restart', async () => {
    const a = natsLog(ROOMY, 'named');
    const subject = a.subjectOf('public:secret-room');
    expect(subject).toMatch(/^named\.channels\.[A-Za-z0-9_-]{43}$/);
    expect(subject).not.toContain('secret');
    const { epoch } = await a.append('public:secret-room', record(1));
    await a.close();
    const again = natsLog(ROOMY, 'named');
    expect(await again.position('public:secret-room')).toEqual({ epoch, offset: 1 });
    await again.close();
  });
});
