import type { PulseClient } from '@pulse/sdk';
import { FailoverProxy, PulseCluster } from '@pulse/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './cluster-helpers.ts';
import { inbox, sdkClient } from './sdk-clients.ts';

/**
 * A Pulse node dies (kill -9) while its clients send and receive. Each client
 * reaches the cluster through a failover proxy (a load balancer): its
 * reconnects land on a live node, which reads the device's queue from
 * JetStream. Every envelope the server acknowledged (`sent`, so `sendText`
 * resolved) arrives, and after the SDK's dedupe exactly once.
 */

const MESSAGES = 40;
/** How many of alice's messages are acknowledged before node B is killed. */
const KILL_AFTER = 12;

let cluster: PulseCluster;
const proxies: FailoverProxy[] = [];
const clients: PulseClient[] = [];
beforeAll(async () => {
  cluster = await PulseCluster.start({ nodes: 3 });
}, 120_000);
afterAll(async () => {
  for (const client of clients) await client.close();
  for (const proxy of proxies) await proxy.close();
  await cluster?.stop();
}, 60_000);

/** A client whose connections go to the nodes in `order` (indexes), the first one alive. */
async function user(name: string, order: readonly number[]): Promise<PulseClient> {
  const proxy = await FailoverProxy.start(order.map((i) => cluster.nodes[i]?.httpPort ?? 0));
  proxies.push(proxy);
  const client = await sdkClient(proxy.baseUrl);
  clients.push(client);
  await client.register(name);
  return client;
}

describe('kill -9 of a Pulse node mid-traffic', () => {
  it('its clients reconnect to another node and get every acknowledged envelope, once', async () => {
    const alice = await user('alice', [0, 1, 2]);
    const bob = await user('bob', [1, 2, 0]); // on node B until it dies, then C
    const carol = await user('carol', [1, 2, 0]); // a sender on node B
    const bobInbox = inbox(bob);
    const aliceInbox = inbox(alice);
    // Sessions first (the first message sets them up), so the traffic below is plain sends.
    await alice.sendText('bob', 'hello');
    await carol.sendText('alice', 'hello');
    await until(() => bobInbox.length === 1 && aliceInbox.length === 1, 'the first messages');
    const nodeB = cluster.nodes[1];
    if (nodeB === undefined) throw new Error('no node B');

    const aliceAcked: string[] = ['hello'];
    const carolAcked: string[] = ['hello'];
    let carolSending = true;
    const carolTraffic = (async () => {
      for (let n = 0; carolSending; n++) {
        const text = `carol ${n}`;
        try {
          await carol.sendText('alice', text);
          carolAcked.push(text);
        } catch {
          // Not acknowledged (her node died under it): it may or may not arrive, but never twice.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    })();
    for (let n = 0; n < MESSAGES; n++) {
      if (n === KILL_AFTER) nodeB.kill('SIGKILL');
      const text = `alice ${n}`;
      await alice.sendText('bob', text);
      aliceAcked.push(text);
    }
    expect(await nodeB.exited).toBe('SIGKILL');
    // Carol goes on until some of her sends went through node C.
    const carolAtKill = carolAcked.length;
    await until(() => carolAcked.length >= carolAtKill + 5, 'carol to send through another node', 60_000);
    carolSending = false;
    await carolTraffic;

    await until(() => bobInbox.length >= aliceAcked.length, "bob to receive all of alice's messages", 60_000);
    const fromCarol = () => aliceInbox.map((message) => message.text);
    await until(() => carolAcked.every((text) => fromCarol().includes(text)), "every acknowledged one of carol's");
    // Per sender in send order, each once (what the server redelivered after the crash, the SDK dropped as seen).
    expect(bobInbox.map((message) => message.text)).toEqual(aliceAcked);
    const carolTexts = fromCarol();
    expect(new Set(carolTexts).size).toBe(carolTexts.length);
    expect(carolTexts.filter((text) => carolAcked.includes(text))).toEqual(carolAcked);
  });
});
