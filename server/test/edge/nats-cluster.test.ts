import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort, NatsServer } from '@pulse/testing/cluster';
import { afterAll, describe, expect, it } from 'vitest';
import type { EnvelopeWrite } from '../../src/core/store.ts';
import { NatsStore } from '../../src/edge/storage/nats/nats-store.ts';

/**
 * The production setup (README "Cluster mode"): three nats-server processes in
 * one cluster on 127.0.0.1, the envelope stream and the KV buckets with three
 * replicas, so JetStream acknowledges a write once a quorum stored it. One
 * server, the stream's leader, is killed with kill -9 while envelopes are being
 * appended: every append the store returned ids for must still be there.
 */

const servers: NatsServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.remove()));
});

async function startCluster(): Promise<NatsServer[]> {
  const clusterPorts = [await freePort(), await freePort(), await freePort()];
  const routes = clusterPorts.map((port) => `nats-route://127.0.0.1:${port}`);
  const started = await Promise.all(
    clusterPorts.map((port, i) =>
      NatsServer.start({
        serverName: `n${i + 1}`,
        cluster: { name: 'pulse-test', port, routes: routes.filter((_, j) => j !== i) },
      }),
    ),
  );
  servers.push(...started);
  return started;
}

const T0 = 1_700_000_000_000;
const write = (to: string, fill: number): EnvelopeWrite => ({
  from: { account: 'alice', deviceId: 1 },
  to,
  envelopes: [{ deviceId: 1, payload: new Uint8Array([fill & 0xff, fill >> 8]) }],
  serverTime: T0,
  expiresAt: T0 + 3_600_000,
  deviceIds: [1],
  queuedAtMost: [1_000_000],
});

describe('a 3-server NATS cluster with R3', () => {
  it('loses no acknowledged envelope when the stream leader is killed (kill -9) mid-traffic', async () => {
    const cluster = await startCluster();
    const store = await NatsStore.open({ servers: cluster.map((s) => s.url), replicas: 3, prefix: 'r3' });
    try {
      const recipients = ['bob', 'carol', 'dave', 'erin'];
      await store.createAccount('alice', 'a', new Uint8Array(33).fill(1), T0);
      for (const [i, name] of recipients.entries())
        await store.createAccount(name, 'd', new Uint8Array(33).fill(i + 2), T0);

      const acknowledged = new Map<string, { to: string; fill: number }>();
      let stop = false;
      // One writer per recipient (a writer's appends to one queue are sequential, as the group commit's are).
      const writers = recipients.map(async (to, w) => {
        for (let n = 0; !stop; n++) {
          const fill = w * 10_000 + n;
          try {
            const [ids] = await store.appendEnvelopes([write(to, fill)]);
            acknowledged.set(ids![0]!, { to, fill });
          } catch {
            // Not acknowledged (in flight at the kill, or no leader yet): may or may not be stored.
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      });

      await until(() => acknowledged.size >= 100);
      const leader = await streamLeader(cluster[0]!.url, 'R3_ENVELOPES');
      const victim = cluster.find((server) => server.options.serverName === leader)!;
      await victim.kill();
      const atKill = acknowledged.size;
      // Traffic goes on through the two survivors once they elected a new leader.
      await until(() => acknowledged.size >= atKill + 100, 60_000);
      stop = true;
      await Promise.all(writers);

      const stored = new Map<string, number>();
      for (const to of recipients) {
        for (let after = 0; ; ) {
          const page = await store.pending(to, 1, after, 500, T0);
          for (const envelope of page)
            stored.set(envelope.envelopeId, envelope.payload[0]! | (envelope.payload[1]! << 8));
          if (page.length < 500) break;
          after = Number(page.at(-1)!.envelopeId);
        }
      }
      const lost = [...acknowledged].filter(([id, { fill }]) => stored.get(id) !== (fill & 0xffff));
      expect(lost).toEqual([]);
      expect(acknowledged.size).toBeGreaterThanOrEqual(atKill + 100);
    } finally {
      await store.close();
    }
  });
});

/** The server name of the stream's current leader. */
async function streamLeader(url: string, stream: string): Promise<string> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    const leader = info.cluster?.leader;
    if (leader === undefined) throw new Error('the stream has no leader');
    return leader;
  } finally {
    await nc.close();
  }
}

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
