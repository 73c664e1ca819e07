import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xeddsaVerify } from '@pulse/crypto';
import { type Device, dialWebSocket, reconnect, register } from '@pulse/testing';
import { NatsServer } from '@pulse/testing/cluster';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/edge/config/config.ts';
import { PulseServer } from '../../src/edge/server.ts';

/**
 * Cluster mode as an operator runs it: real Pulse servers (WebSocket, /healthz)
 * whose configuration names one real nats-server -js. Routing between nodes is
 * not part of this: a device hears of an envelope stored through another node
 * when it connects or sends `sync`.
 */

interface Node {
  readonly server: PulseServer;
  readonly httpPort: number;
  readonly dataDir: string;
}

async function startNode(nats: NatsServer): Promise<Node> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pulse-cluster-node-'));
  const config = loadConfig({
    env: {},
    overrides: {
      server: { host: '127.0.0.1', port: 0 },
      transport: { webtransport: false },
      metrics: { port: 0 },
      storage: { path: dataDir },
      web: { root: join(dataDir, 'no-web'), entry: '' },
      cluster: { nats: [nats.url] },
    },
  });
  const server = new PulseServer({ config, verify: xeddsaVerify, logger: pino({ level: 'silent' }) });
  const { httpPort } = await server.start();
  // Cluster mode connects in the background; the node is of use once NATS answered.
  await until(() => server.node.storeHealth().available);
  return { server, httpPort, dataDir };
}

const dial = (node: Node) => dialWebSocket(`ws://127.0.0.1:${node.httpPort}/pulse/ws`);
const healthz = async (node: Node) => {
  const response = await fetch(`http://127.0.0.1:${node.httpPort}/healthz`);
  return { status: response.status, body: await response.text() };
};
const sendTo = (from: Device, to: Device, payload: number) =>
  from.client.request({
    type: 'send',
    id: 0,
    to: to.account,
    envelopes: [{ deviceId: 1, payload: new Uint8Array([payload]) }],
  });

let nats: NatsServer;
let a: Node;
let b: Node;

beforeAll(async () => {
  nats = await NatsServer.start();
  [a, b] = await Promise.all([startNode(nats), startNode(nats)]);
});
afterAll(async () => {
  for (const node of [a, b]) {
    await node?.server.stop(0);
    if (node) rmSync(node.dataDir, { recursive: true, force: true });
  }
  await nats?.remove();
});

describe('cluster mode: two Pulse nodes on one NATS', () => {
  it('share accounts and offline queues: stored through one node, delivered and acknowledged through the other', async () => {
    const alice = await register(dial(a));
    const bob = await register(dial(b));
    // The account name is taken cluster-wide.
    await expect(register(dial(b), alice.account)).rejects.toThrow(/ACCOUNT_EXISTS/);
    expect(await sendTo(alice, bob, 42)).toMatchObject({ type: 'sent' });
    const done = await bob.client.request({ type: 'sync', id: 0 });
    expect(done).toMatchObject({ type: 'sync_done', delivered: 1 });
    const envelope = await bob.client.next('deliver');
    expect(envelope).toMatchObject({ from: { account: alice.account, deviceId: 1 } });
    expect(envelope.payload).toEqual(new Uint8Array([42]));
    bob.client.send({ type: 'deliver_ack', envelopeIds: [envelope.envelopeId] });
    // The session handles its frames in order: this sync runs after the ack.
    expect(await bob.client.request({ type: 'sync', id: 0 })).toMatchObject({ delivered: 0 });
    // Acknowledged through node B: gone for node A too.
    await reconnect(dial(a), bob);
    expect(await bob.client.request({ type: 'sync', id: 0 })).toMatchObject({ delivered: 0 });
    // On its own node, an online recipient gets the envelope at once, read back from the stream.
    expect(await sendTo(alice, bob, 43)).toMatchObject({ type: 'sent' });
    expect((await bob.client.next('deliver')).payload).toEqual(new Uint8Array([43]));
  });

  it('a node that loses NATS says so on /healthz and refuses sends with UNAVAILABLE, then reconnects', async () => {
    const alice = await register(dial(a));
    const bob = await register(dial(b));
    expect(await healthz(a)).toEqual({ status: 200, body: 'ok\n' });

    await nats.kill();
    await until(() => !a.server.node.storeHealth().available);
    const down = await healthz(a);
    expect(down.status).toBe(503);
    expect(down.body).toMatch(/^store unavailable: /);
    expect(await sendTo(alice, bob, 1)).toMatchObject({ type: 'error', code: 'UNAVAILABLE' });

    nats = await nats.restart();
    await until(() => a.server.node.storeHealth().available && b.server.node.storeHealth().available);
    expect(await healthz(a)).toEqual({ status: 200, body: 'ok\n' });
    expect(await sendTo(alice, bob, 2)).toMatchObject({ type: 'sent' });
    expect(await bob.client.request({ type: 'sync', id: 0 })).toMatchObject({ delivered: 1 });
    expect((await bob.client.next('deliver')).payload).toEqual(new Uint8Array([2]));
  });
});

/** Waits (polling, bounded) until `condition` holds: how fast NATS reconnects is not this test's subject. */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
