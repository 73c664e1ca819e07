import { deviceListSignedMessage, type FrameOf } from '@pulse/proto';
import { type Device, type FrameClient, linkDevice, reconnect, register } from '@pulse/testing';
import { PulseCluster } from '@pulse/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dial, until } from './cluster-helpers.ts';

/**
 * Routing between the nodes of a cluster (core/hub.ts, edge/cluster/): three
 * real Pulse processes on one real nats-server -js. An envelope committed on
 * one node reaches a device connected to another at once, without `sync`; a
 * device has one live session cluster-wide.
 */

let cluster: PulseCluster;
beforeAll(async () => {
  cluster = await PulseCluster.start({ nodes: 3 });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const node = (i: number) => cluster.node(i);

async function sendTo(from: Device, to: string, deviceIds: readonly number[], payload: number): Promise<string[]> {
  const sent = await from.client.expect(
    {
      type: 'send',
      id: 0,
      to,
      envelopes: deviceIds.map((deviceId) => ({ deviceId, payload: new Uint8Array([payload]) })),
    },
    'sent',
  );
  return sent.envelopeIds;
}

async function received(client: FrameClient, payload: number): Promise<string> {
  const envelope = await client.next('deliver');
  expect(envelope.payload).toEqual(new Uint8Array([payload]));
  client.send({ type: 'deliver_ack', envelopeIds: [envelope.envelopeId] });
  return envelope.envelopeId;
}

describe('cluster routing: three Pulse nodes on one NATS', () => {
  it('an envelope sent on node A reaches a device online on node B at once, without sync', async () => {
    const alice = await register(dial(node(0)));
    const bob = await register(dial(node(1)));
    const [id] = await sendTo(alice, bob.account, [1], 7);
    expect(await received(bob.client, 7)).toBe(id);
    // And back, the other way round.
    await sendTo(bob, alice.account, [1], 8);
    await received(alice.client, 8);
  });

  it('devices of one account on two nodes both receive what a third node sends', async () => {
    const alice = await register(dial(node(0)));
    const bob = await register(dial(node(1)));
    const bobPhone = await linkDevice(dial(node(1)), bob, 'phone');
    await reconnect(dial(node(2)), bobPhone);
    await sendTo(alice, bob.account, [bob.deviceId, bobPhone.deviceId], 9);
    await Promise.all([received(bob.client, 9), received(bobPhone.client, 9)]);
  });

  it('the newest authentication wins cluster-wide: the session on the other node is closed SESSION_REPLACED', async () => {
    const alice = await register(dial(node(0)));
    const bob = await register(dial(node(1)));
    const onB = bob.client;
    await reconnect(dial(node(2)), bob);
    expect(await onB.next('close')).toMatchObject({ code: 'SESSION_REPLACED' });
    await onB.closed();
    // Envelopes go to the session that won, on node C.
    await sendTo(alice, bob.account, [1], 10);
    await received(bob.client, 10);
  });

  it('two nodes authenticating one device at once end with exactly one live session, which receives', async () => {
    const alice = await register(dial(node(0)));
    const bob = await register(dial(node(1)));
    const first = bob.client;
    const attempts = await Promise.all([node(1), node(2)].map((n) => reconnect(dial(n), { ...bob })));
    const clients = attempts.map((device) => device.client);
    await first.closed();
    await until(() => clients.filter((client) => client.isClosed).length === 1, 'one of the two sessions to close');
    const survivor = clients.find((client) => !client.isClosed);
    if (survivor === undefined) throw new Error('no session survived');
    const loser = clients.find((client) => client.isClosed);
    expect(await loser?.next('close')).toMatchObject({ code: 'SESSION_REPLACED' });
    await sendTo(alice, bob.account, [1], 11);
    await received(survivor, 11);
  });

  it('ephemeral frames (typing) reach a device on another node', async () => {
    const alice = await register(dial(node(0)));
    const bob = await register(dial(node(1)));
    // Ephemeral frames are never stored: one sent before node B's subscription for Bob has
    // reached NATS is dropped by design. So Alice repeats it, as a typing client does, until one arrives.
    let typing: FrameOf<'ephemeral'> | undefined;
    for (let attempt = 0; typing === undefined && attempt < 40; attempt++) {
      alice.client.send({
        type: 'send_ephemeral',
        to: bob.account,
        envelopes: [{ deviceId: 1, payload: new Uint8Array([42]) }],
      });
      typing = await bob.client.next('ephemeral', 250).catch(() => undefined);
    }
    if (typing === undefined) throw new Error('no ephemeral frame reached node B in 40 tries');
    expect(typing).toMatchObject({ from: { account: alice.account, deviceId: 1 } });
    expect(typing.payload).toEqual(new Uint8Array([42]));
  });

  it('a device removed on one node loses its session on another; the others hear of the new list', async () => {
    const bob = await register(dial(node(0)));
    const phone = await linkDevice(dial(node(0)), bob, 'phone');
    const laptop = await linkDevice(dial(node(0)), bob, 'laptop');
    await reconnect(dial(node(1)), phone);
    await reconnect(dial(node(2)), laptop);
    const current = await bob.client.expect({ type: 'device_list', id: 0 }, 'devices');
    const devices = current.deviceList.devices.filter((device) => device.deviceId !== phone.deviceId);
    const version = current.deviceList.version + 1;
    const signature = bob.accountIdentity.sign(deviceListSignedMessage({ account: bob.account, version, devices }));
    await bob.client.expect({ type: 'device_list_update', id: 0, deviceList: { version, devices, signature } }, 'ok');
    expect(await phone.client.next('close')).toMatchObject({ code: 'AUTH_FAILED' });
    expect(await laptop.client.next('device_list_changed')).toMatchObject({ account: bob.account, version });
  });

  // Last: it takes NATS away from every node for a moment.
  it('routing resumes after NATS was gone: the nodes reconnect and resubscribe on their own', async () => {
    const alice = await register(dial(node(0)));
    const bob = await register(dial(node(1)));
    await cluster.nats[0]?.kill();
    await cluster.restartNats(0);
    const healthy = async () =>
      (await Promise.all(cluster.nodes.map((n) => fetch(`${n.baseUrl}/healthz`)))).every((r) => r.ok);
    await until(healthy, 'every node to have NATS again');
    // Sends may be refused (UNAVAILABLE) until the node's store has set up again; the first `sent` counts.
    let id: string | undefined;
    await until(async () => {
      const answer = await alice.client.request({
        type: 'send',
        id: 0,
        to: bob.account,
        envelopes: [{ deviceId: 1, payload: new Uint8Array([12]) }],
      });
      id = answer.type === 'sent' ? answer.envelopeIds[0] : undefined;
      return id !== undefined;
    }, 'a send to be stored');
    expect(await received(bob.client, 12)).toBe(id);
  });
});
