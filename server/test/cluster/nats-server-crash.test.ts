import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type Device, reconnect, register } from '@pulse/testing';
import { PulseCluster } from '@pulse/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dial, until } from './cluster-helpers.ts';

/**
 * The production setup end to end (README "Cluster mode"): two Pulse nodes on
 * a 3-server NATS cluster, envelope stream and buckets with 3 replicas. The
 * stream's leader is killed (kill -9) while a client on node A sends to a
 * device on node B: every envelope answered `sent` is delivered afterwards.
 */

let cluster: PulseCluster;
beforeAll(async () => {
  cluster = await PulseCluster.start({ nodes: 2, natsServers: 3 });
}, 180_000);
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const payloadOf = (n: number) => new Uint8Array([n & 0xff, n >> 8]);

describe('a 3-server NATS cluster under two Pulse nodes', () => {
  it('loses no acknowledged envelope when the stream leader is killed mid-traffic', async () => {
    const [nodeA, nodeB] = cluster.nodes;
    if (nodeA === undefined || nodeB === undefined) throw new Error('two nodes expected');
    const alice = await register(dial(nodeA));
    const bob: Device = await register(dial(nodeB));

    const acknowledged = new Map<string, number>();
    let sending = true;
    const traffic = (async () => {
      for (let n = 0; sending; n++) {
        const answer = await alice.client.request({
          type: 'send',
          id: 0,
          to: bob.account,
          envelopes: [{ deviceId: 1, payload: payloadOf(n) }],
        });
        if (answer.type === 'sent') acknowledged.set(answer.envelopeIds[0] ?? '', n);
        // UNAVAILABLE while NATS elects a new leader: not acknowledged, so not counted.
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await until(() => acknowledged.size >= 50, 'traffic before the kill');
    const leaderName = await streamLeader(cluster.natsUrls);
    const leader = cluster.nats.find((server) => server.options.serverName === leaderName);
    if (leader === undefined) throw new Error(`no server named ${leaderName}`);
    await leader.kill();
    const atKill = acknowledged.size;
    await until(() => acknowledged.size >= atKill + 50, 'traffic through the survivors', 90_000);
    sending = false;
    await traffic;

    // Bob reads his whole queue afresh (whatever he was sent live before, `sync` starts over).
    await reconnect(dial(nodeA), bob);
    const delivered = new Map<string, number>();
    bob.client.send({ type: 'sync', id: bob.client.nextId() });
    await until(
      async () => {
        for (;;) {
          const frame = bob.client.inbox.find((f) => f.type === 'deliver');
          if (frame === undefined || frame.type !== 'deliver') break;
          bob.client.inbox.splice(bob.client.inbox.indexOf(frame), 1);
          delivered.set(frame.envelopeId, frame.payload[0]! | (frame.payload[1]! << 8));
          bob.client.send({ type: 'deliver_ack', envelopeIds: [frame.envelopeId] });
        }
        return [...acknowledged.keys()].every((id) => delivered.has(id));
      },
      'every acknowledged envelope',
      60_000,
    );
    const wrong = [...acknowledged].filter(([id, n]) => delivered.get(id) !== (n & 0xffff));
    expect(wrong).toEqual([]);
  });
});

/** The server name of the envelope stream's leader (the store's default prefix: PULSE_ENVELOPES). */
async function streamLeader(servers: string[]): Promise<string> {
  const nc = await connect({ servers });
  try {
    const info = await (await jetstreamManager(nc)).streams.info('PULSE_ENVELOPES');
    const leader = info.cluster?.leader;
    if (leader === undefined) throw new Error('the stream has no leader');
    return leader;
  } finally {
    await nc.close();
  }
}
