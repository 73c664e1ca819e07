import { type Device, type FrameClient, register } from '@pulse/testing';
import { PulseCluster } from '@pulse/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dial } from './cluster-helpers.ts';

/**
 * Presence across nodes (issue 13): three real Pulse processes on one real
 * nats-server -js, presence in NATS KV (edge/cluster/channels/nats-presence.ts).
 * A short heartbeat timeout, so a killed node's members must leave quickly.
 */
const HEARTBEAT = { interval: 500, timeout: 3_000 };

let cluster: PulseCluster;
beforeAll(async () => {
  cluster = await PulseCluster.start({ nodes: 3, node: { heartbeat: HEARTBEAT } });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const node = (i: number) => cluster.node(i);

/** Clients answer nothing by themselves: a ping now and then keeps them within the short heartbeat timeout. */
function keepAlive(...clients: FrameClient[]): () => void {
  let nonce = 0;
  const timer = setInterval(() => {
    for (const client of clients) if (!client.isClosed) client.send({ type: 'ping', nonce: ++nonce });
  }, HEARTBEAT.interval);
  return () => clearInterval(timer);
}

const who = (device: Device) => ({ account: device.account, deviceId: device.deviceId });

describe('cluster presence: three Pulse nodes on one NATS', () => {
  it('shows members across nodes: joins, leaves and the snapshot merge every node', async () => {
    const channel = 'public:lobby';
    const watcher = await register(dial(node(0)));
    const onB = await register(dial(node(1)));
    const onC = await register(dial(node(2)));
    const stop = keepAlive(watcher.client, onB.client, onC.client);
    try {
      await watcher.client.expect({ type: 'subscribe', id: 0, channel, presence: true }, 'subscribed');
      expect((await watcher.client.next('presence_snapshot')).members.map((m) => m.account)).toEqual([watcher.account]);
      await onB.client.expect({ type: 'subscribe', id: 0, channel }, 'subscribed');
      expect((await watcher.client.next('presence_join')).member).toMatchObject(who(onB));
      // A newcomer on a third node sees both, whichever node they are on.
      await onC.client.expect({ type: 'subscribe', id: 0, channel, presence: true }, 'subscribed');
      const snapshot = await onC.client.next('presence_snapshot');
      expect(snapshot.members.map((m) => m.account).sort()).toEqual([watcher.account, onB.account, onC.account].sort());
      expect((await watcher.client.next('presence_join')).member).toMatchObject(who(onC));
      await onB.client.expect({ type: 'unsubscribe', id: 0, channel }, 'ok');
      expect((await watcher.client.next('presence_leave')).member).toMatchObject(who(onB));
      expect((await onC.client.next('presence_leave')).member).toMatchObject(who(onB));
    } finally {
      stop();
    }
  });

  it("drops a killed node's members from every view within the heartbeat timeout", async () => {
    const channel = 'public:crash';
    const doomed = await cluster.startNode({ heartbeat: HEARTBEAT });
    const watcher = await register(dial(node(0)));
    const victim = await register(dial(doomed));
    const stop = keepAlive(watcher.client, victim.client);
    try {
      await watcher.client.expect({ type: 'subscribe', id: 0, channel, presence: true }, 'subscribed');
      await victim.client.expect({ type: 'subscribe', id: 0, channel }, 'subscribed');
      expect((await watcher.client.next('presence_join')).member).toMatchObject(who(victim));
      doomed.kill('SIGKILL');
      await doomed.exited;
      // Within the timeout after the node's last refresh, plus one sweep and some room for a busy machine.
      const leave = await watcher.client.next('presence_leave', HEARTBEAT.timeout + 2 * HEARTBEAT.interval + 2_000);
      expect(leave.member).toMatchObject(who(victim));
    } finally {
      stop();
    }
  });
});
