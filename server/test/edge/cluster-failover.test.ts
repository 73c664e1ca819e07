import { type Device, dialWebSocket, reconnect, register, type ServerProcess, spawnServer } from '@pulse/testing';
import { NatsServer } from '@pulse/testing/cluster';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Cluster mode when a Pulse node dies: two real server processes (what
 * `npm start` runs) on one nats-server; the one its clients use is killed with
 * kill -9 while they send, and they carry on through the other. Every envelope
 * a sender got `sent` for reaches its recipient (at least once; by id, once).
 */

let nats: NatsServer | undefined;
const nodes: ServerProcess[] = [];
afterAll(async () => {
  for (const node of nodes) {
    node.kill('SIGKILL');
    await node.exited;
  }
  await nats?.remove();
});

async function startNode(url: string): Promise<ServerProcess> {
  const node = await spawnServer({ webtransport: false, webClient: false, config: { cluster: { nats: url } } });
  nodes.push(node);
  // Cluster mode connects to NATS in the background: /healthz says when the node can serve.
  await until(async () => (await fetch(`${node.baseUrl}/healthz`)).status === 200);
  return node;
}

describe('cluster mode: a Pulse node killed mid-traffic', () => {
  it('loses no acknowledged envelope: its clients reconnect to another node and get every one', async () => {
    nats = await NatsServer.start();
    const [a, b] = [await startNode(nats.url), await startNode(nats.url)];
    const alice = await register(dialWebSocket(a.websocketUrl));
    const bob: Device = await register(dialWebSocket(a.websocketUrl));

    const acknowledged = new Set<string>();
    const received = new Set<string>();
    // Bob acknowledges what node A delivers, as a client does.
    const reading = (async () => {
      for (;;) {
        const envelope = await bob.client.next('deliver').catch(() => undefined);
        if (envelope === undefined) return;
        received.add(envelope.envelopeId);
        bob.client.send({ type: 'deliver_ack', envelopeIds: [envelope.envelopeId] });
      }
    })();
    const sending = (async () => {
      for (let n = 0; ; n++) {
        const payload = new Uint8Array([n & 0xff, n >> 8]);
        const answer = await alice.client
          .request({ type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload }] })
          .catch(() => undefined);
        if (answer === undefined) return; // Node A is gone: this send was never acknowledged.
        if (answer.type === 'sent') for (const id of answer.envelopeIds) acknowledged.add(id);
      }
    })();

    await until(() => acknowledged.size >= 50);
    a.kill('SIGKILL');
    await a.exited;
    await Promise.all([sending, reading]);
    expect(acknowledged.size).toBeGreaterThanOrEqual(50);

    // Bob comes back through node B: what he had not acknowledged is delivered there.
    await reconnect(dialWebSocket(b.websocketUrl), bob);
    const done = await bob.client.request({ type: 'sync', id: 0 });
    expect(done.type).toBe('sync_done');
    const delivered = done.type === 'sync_done' ? done.delivered : 0;
    for (let i = 0; i < delivered; i++) received.add((await bob.client.next('deliver')).envelopeId);
    expect([...acknowledged].filter((id) => !received.has(id))).toEqual([]);

    // And alice sends on through node B.
    await reconnect(dialWebSocket(b.websocketUrl), alice);
    const after = await alice.client.request({
      type: 'send',
      id: 0,
      to: bob.account,
      envelopes: [{ deviceId: 1, payload: new Uint8Array([1]) }],
    });
    expect(after.type).toBe('sent');
  });
});

/** Waits (polling, bounded) until `condition` holds; a condition that throws (a refused fetch) does not hold yet. */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const holds = async () => {
    try {
      return await condition();
    } catch {
      return false;
    }
  };
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
