import { type Device, reconnect, register } from '@pulse/testing';
import { PulseCluster } from '@pulse/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dial } from './cluster-helpers.ts';

/**
 * Channels across nodes (issue 13): three real Pulse processes on one real
 * nats-server -js. A channel's history is one JetStream stream, so offsets are
 * the same on every node, a subscriber on one node hears what is published on
 * another, and replay from an offset works on any node and after restarts.
 */

let cluster: PulseCluster;
beforeAll(async () => {
  cluster = await PulseCluster.start({ nodes: 3 });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const node = (i: number) => cluster.node(i);
const text = (s: string) => new TextEncoder().encode(s);
const read = (payload: Uint8Array) => new TextDecoder().decode(payload);

async function publish(device: Device, channel: string, payload: string): Promise<number> {
  return (await device.client.expect({ type: 'publish', id: 0, channel, payload: text(payload) }, 'published')).offset;
}

describe('cluster channels: three Pulse nodes on one NATS', () => {
  it('fans out a publication on node A to subscribers on nodes B and C, with the same offsets', async () => {
    const channel = 'public:fanout';
    const writer = await register(dial(node(0)));
    const onB = await register(dial(node(1)));
    const onC = await register(dial(node(2)));
    const b = await onB.client.expect({ type: 'subscribe', id: 0, channel }, 'subscribed');
    const c = await onC.client.expect({ type: 'subscribe', id: 0, channel }, 'subscribed');
    expect(c.epoch).toBe(b.epoch);
    for (let i = 1; i <= 3; i++) expect(await publish(writer, channel, `m${i}`)).toBe(i);
    for (const reader of [onB, onC]) {
      const got = [];
      for (let i = 0; i < 3; i++) got.push(await reader.client.next('channel_message'));
      expect(got.map((m) => [m.offset, read(m.payload), m.from.account])).toEqual([
        [1, 'm1', writer.account],
        [2, 'm2', writer.account],
        [3, 'm3', writer.account],
      ]);
    }
  });

  it('a subscriber on node C replays what was published on node A (recovered=true)', async () => {
    const channel = 'public:replay';
    const writer = await register(dial(node(0)));
    const reader = await register(dial(node(2)));
    const first = await reader.client.expect({ type: 'subscribe', id: 0, channel }, 'subscribed');
    await publish(writer, channel, 'seen');
    expect((await reader.client.next('channel_message')).offset).toBe(1);
    reader.client.close();
    await publish(writer, channel, 'missed 2');
    await publish(writer, channel, 'missed 3');
    // Back on another node: the offsets and epoch hold there too.
    await reconnect(dial(node(1)), reader);
    const back = await reader.client.expect(
      { type: 'subscribe', id: 0, channel, since: { epoch: first.epoch, offset: 1 } },
      'subscribed',
    );
    expect(back).toMatchObject({ epoch: first.epoch, offset: 3, recovered: true });
    const missed = [await reader.client.next('channel_message'), await reader.client.next('channel_message')];
    expect(missed.map((m) => [m.offset, read(m.payload)])).toEqual([
      [2, 'missed 2'],
      [3, 'missed 3'],
    ]);
  });

  it('replays after the publishing node is gone and on a node started afterwards', async () => {
    const channel = 'public:restart';
    const extra = await cluster.startNode();
    const writer = await register(dial(extra));
    const { epoch } = await writer.client.expect({ type: 'subscribe', id: 0, channel }, 'subscribed');
    await publish(writer, channel, 'before');
    await publish(writer, channel, 'the node went');
    extra.kill('SIGKILL');
    await extra.exited;
    const late = await cluster.startNode();
    const reader = await register(dial(late));
    const replay = await reader.client.expect(
      { type: 'subscribe', id: 0, channel, since: { epoch, offset: 0 } },
      'subscribed',
    );
    expect(replay).toMatchObject({ epoch, offset: 2, recovered: true });
    const got = [await reader.client.next('channel_message'), await reader.client.next('channel_message')];
    expect(got.map((m) => read(m.payload))).toEqual(['before', 'the node went']);
    // Publishing goes on from there, from any node.
    const other = await register(dial(node(1)));
    expect(await publish(other, channel, 'after')).toBe(3);
    expect((await reader.client.next('channel_message')).offset).toBe(3);
  });

  it('two nodes publishing at once on one channel hand out every offset once, in the order subscribers get them', async () => {
    const channel = 'public:race';
    const a = await register(dial(node(0)));
    const b = await register(dial(node(1)));
    const reader = await register(dial(node(2)));
    await reader.client.expect({ type: 'subscribe', id: 0, channel }, 'subscribed');
    const offsets = await Promise.all(
      Array.from({ length: 10 }, (_, i) => publish(i % 2 === 0 ? a : b, channel, `r${i}`)),
    );
    expect([...offsets].sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    const got = [];
    for (let i = 0; i < 10; i++) got.push((await reader.client.next('channel_message')).offset);
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });
});
