import type { PulseClient } from '@pulse/sdk';
import { PulseCluster } from '@pulse/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './cluster-helpers.ts';
import { inbox, sdkClient } from './sdk-clients.ts';

/**
 * What users of a cluster see: SDK clients (end-to-end encrypted) connected to
 * different Pulse nodes on one NATS chat as if there were one server. No
 * client calls `sync`: every message arrives by routing between the nodes.
 */

let cluster: PulseCluster;
const clients: PulseClient[] = [];
beforeAll(async () => {
  cluster = await PulseCluster.start({ nodes: 3 });
}, 120_000);
afterAll(async () => {
  for (const client of clients) await client.close();
  await cluster?.stop();
}, 60_000);

async function user(name: string, nodeIndex: number): Promise<PulseClient> {
  const node = cluster.nodes[nodeIndex];
  if (node === undefined) throw new Error(`no node ${nodeIndex}`);
  const client = await sdkClient(node.baseUrl);
  clients.push(client);
  await client.register(name);
  return client;
}

const texts = (messages: readonly { text: string }[]) => messages.map((message) => message.text);

describe('SDK clients on different nodes of a cluster', () => {
  it('chat 1:1, encrypted, both ways', async () => {
    const alice = await user('alice', 0);
    const bob = await user('bob', 1);
    const bobInbox = inbox(bob);
    const aliceInbox = inbox(alice);
    await alice.sendText('bob', 'hello from node A');
    await until(() => bobInbox.length === 1, 'bob to receive');
    await bob.sendText('alice', 'hello from node B');
    await until(() => aliceInbox.length === 1, 'alice to receive');
    expect(texts(bobInbox)).toEqual(['hello from node A']);
    expect(texts(aliceInbox)).toEqual(['hello from node B']);
    // The two ends agree on the safety number: the same keys went through both nodes.
    expect((await alice.safetyNumber('bob')).number).toBe((await bob.safetyNumber('alice')).number);
  });

  it('a group of three, one member on each node', async () => {
    const ann = await user('ann', 0);
    const ben = await user('ben', 1);
    const cat = await user('cat', 2);
    const inboxes = { ann: inbox(ann), ben: inbox(ben), cat: inbox(cat) };
    const group = await ann.createGroup('three nodes', ['ben', 'cat']);
    await until(() => ben.findGroup(group.id) !== undefined && cat.findGroup(group.id) !== undefined, 'the invites');
    await ann.sendGroupText(group.id, 'from A');
    await until(() => inboxes.ben.length === 1 && inboxes.cat.length === 1, 'the first group message');
    await ben.sendGroupText(group.id, 'from B');
    await until(() => inboxes.ann.length === 1 && inboxes.cat.length === 2, 'the second');
    await cat.sendGroupText(group.id, 'from C');
    await until(() => inboxes.ann.length === 2 && inboxes.ben.length === 2, 'the third');
    expect(texts(inboxes.ann)).toEqual(['from B', 'from C']);
    expect(texts(inboxes.ben)).toEqual(['from A', 'from C']);
    expect(texts(inboxes.cat)).toEqual(['from A', 'from B']);
  });
});
