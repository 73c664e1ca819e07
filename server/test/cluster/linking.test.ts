import { createHmac, randomBytes } from 'node:crypto';
import { generateIdentityKeyPair, generatePqPreKey, generateSignedPreKey, type IdentityKeyPair } from '@pulse/crypto';
import {
  authSignedMessage,
  canonicalLinkCode,
  deviceListSignedMessage,
  type FrameOf,
  linkCodeFromRandom,
  linkCodeMacMessage,
  linkRequestSignedMessage,
} from '@pulse/proto';
import { type Device, FrameClient, register, type ServerProcess } from '@pulse/testing';
import { PulseCluster } from '@pulse/testing/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dial, until } from './cluster-helpers.ts';

/**
 * Linking across nodes (core/links.ts, core/ports/link-directory.ts,
 * edge/cluster/nats-link-directory.ts): two real Pulse processes on one real
 * nats-server -js. The new device asks on node B; the account's device on
 * node A sees the request, checks its link code, approves, and the new device
 * hears so on B. The per-account bound holds over both nodes.
 */

const MAX_PENDING_LINKS = 2;

let cluster: PulseCluster;
beforeAll(async () => {
  cluster = await PulseCluster.start({ nodes: 2, node: { limits: { maxPendingLinks: MAX_PENDING_LINKS } } });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const node = (i: number) => cluster.node(i);

/** The user's code: shown by the new device, typed into the approving one. */
const mac = (code: string, account: string, deviceName: string, identityKey: Uint8Array) =>
  new Uint8Array(
    createHmac('sha256', canonicalLinkCode(code) ?? '')
      .update(linkCodeMacMessage(account, deviceName, identityKey))
      .digest(),
  );

interface NewDevice {
  readonly client: FrameClient;
  readonly identity: IdentityKeyPair;
  readonly code: string;
  readonly deviceName: string;
}

/** A new device on `at` sends `link_request` for `account`; the answer (`link_pending` or `error`) is returned. */
async function askToJoin(
  at: ServerProcess,
  account: string,
): Promise<{ device: NewDevice; answer: FrameOf<'link_pending' | 'error'> }> {
  const identity = generateIdentityKeyPair();
  const code = linkCodeFromRandom(randomBytes(10));
  const deviceName = `phone-${randomBytes(3).toString('hex')}`;
  const client = await FrameClient.connect(dial(at));
  const answer = await client.request({
    type: 'link_request',
    id: 0,
    account,
    deviceName,
    identityKey: identity.publicKey,
    signedPreKey: generateSignedPreKey(identity, 1).toPublic(),
    pqPreKey: generatePqPreKey(identity, 2, { lastResort: true }).toPublic(),
    mac: mac(code, account, deviceName, identity.publicKey),
    signature: identity.sign(linkRequestSignedMessage(client.challenge, account, identity.publicKey)),
  });
  if (answer.type !== 'link_pending' && answer.type !== 'error') throw new Error(`unexpected ${answer.type}`);
  return { device: { client, identity, code, deviceName }, answer };
}

async function pendingLinks(device: Device): Promise<FrameOf<'link_requested'>[]> {
  const { requests } = await device.client.expect({ type: 'link_list', id: 0 }, 'links');
  return requests.map((r) => ({ type: 'link_requested', ...r }));
}

async function metric(at: ServerProcess, line: RegExp): Promise<number> {
  const text = await (await fetch(at.metricsUrl)).text();
  const found = text.split('\n').find((l) => line.test(l));
  return found === undefined ? 0 : Number(found.split(' ').at(-1));
}

describe('linking across nodes: two Pulse nodes on one NATS', () => {
  it('a device on node A approves, with its code, a new device waiting on node B, which then receives', async () => {
    const alice = await register(dial(node(0)));
    const bob = await register(dial(node(0)));
    const { device, answer } = await askToJoin(node(1), bob.account);
    expect(answer.type).toBe('link_pending');
    const pending = answer as FrameOf<'link_pending'>;

    // Announced to Bob's device on the other node, and listed there.
    const announced = await bob.client.next('link_requested');
    expect(announced.linkId).toBe(pending.linkId);
    const request = (await pendingLinks(bob)).find((r) => r.linkId === pending.linkId);
    if (request === undefined) throw new Error('the link is not listed on node A');
    // The approving device picks the request whose MAC verifies under the code the user typed.
    expect(request.mac).toEqual(mac(device.code, bob.account, request.deviceName, request.identityKey));
    expect(request.mac).not.toEqual(
      mac(linkCodeFromRandom(randomBytes(10)), bob.account, request.deviceName, request.identityKey),
    );

    const current = await bob.client.expect({ type: 'device_list', id: 0 }, 'devices');
    const devices = [
      ...current.deviceList.devices,
      { deviceId: request.deviceId, identityKey: request.identityKey, name: request.deviceName, addedAt: 2 },
    ];
    const version = current.deviceList.version + 1;
    const signature = bob.accountIdentity.sign(deviceListSignedMessage({ account: bob.account, version, devices }));
    const approved = device.client.next('link_approved');
    await bob.client.expect(
      {
        type: 'device_list_update',
        id: 0,
        deviceList: { version, devices, signature },
        link: { linkId: request.linkId, provisioning: new Uint8Array([1, 2, 3]) },
      },
      'ok',
    );
    const heard = await approved;
    expect(heard).toMatchObject({ linkId: request.linkId, account: bob.account, deviceId: request.deviceId });
    expect(heard.provisioning).toEqual(new Uint8Array([1, 2, 3]));
    expect(await pendingLinks(bob)).toEqual([]);

    // The new device authenticates on its waiting connection (node B) and receives.
    await device.client.expect(
      {
        type: 'auth',
        id: 0,
        account: bob.account,
        deviceId: heard.deviceId,
        signature: device.identity.sign(authSignedMessage(device.client.challenge, bob.account, heard.deviceId)),
      },
      'auth_ok',
    );
    await alice.client.expect(
      {
        type: 'send',
        id: 0,
        to: bob.account,
        envelopes: devices.map((d) => ({ deviceId: d.deviceId, payload: new Uint8Array([42]) })),
      },
      'sent',
    );
    const envelope = await device.client.next('deliver');
    expect(envelope.payload).toEqual(new Uint8Array([42]));

    // The approval went over NATS from A to B, and both see their store.
    expect(
      await metric(node(0), /^pulse_cluster_notices_total\{direction="sent",type="link_approved"\}/),
    ).toBeGreaterThan(0);
    expect(
      await metric(node(1), /^pulse_cluster_notices_total\{direction="received",type="link_approved"\}/),
    ).toBeGreaterThan(0);
    expect(await metric(node(0), /^pulse_cluster_notices_total\{direction="sent",type="frame"\}/)).toBeGreaterThan(0);
    expect(await metric(node(1), /^pulse_store_available /)).toBe(1);
  });

  it('holds max_pending_links over both nodes, and frees the place of a device that left', async () => {
    const bob = await register(dial(node(0)));
    const first = await askToJoin(node(0), bob.account);
    const second = await askToJoin(node(1), bob.account);
    expect([first.answer.type, second.answer.type]).toEqual(['link_pending', 'link_pending']);
    // Deliberately beyond the bound, on each node.
    for (const at of [node(0), node(1)]) {
      const over = await askToJoin(at, bob.account);
      expect(over.answer).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
      over.device.client.close();
    }
    expect((await pendingLinks(bob)).length).toBe(MAX_PENDING_LINKS);

    // The device waiting on node B leaves: node A stops listing it, and its place is free again.
    const left = (second.answer as FrameOf<'link_pending'>).linkId;
    second.device.client.close();
    await until(
      async () => !(await pendingLinks(bob)).some((r) => r.linkId === left),
      'the link of a device that left to go',
    );
    const again = await askToJoin(node(1), bob.account);
    expect(again.answer.type).toBe('link_pending');
    first.device.client.close();
    again.device.client.close();
  });

  it('an approval of a link whose device left is refused with LINK_NOT_FOUND on any node', async () => {
    const bob = await register(dial(node(0)));
    const { device, answer } = await askToJoin(node(1), bob.account);
    const { linkId } = answer as FrameOf<'link_pending'>;
    const request = (await pendingLinks(bob)).find((r) => r.linkId === linkId);
    if (request === undefined) throw new Error('the link is not listed');
    device.client.close();
    await until(async () => (await pendingLinks(bob)).length === 0, 'the link to go');
    const current = await bob.client.expect({ type: 'device_list', id: 0 }, 'devices');
    const devices = [
      ...current.deviceList.devices,
      { deviceId: request.deviceId, identityKey: request.identityKey, name: request.deviceName, addedAt: 2 },
    ];
    const version = current.deviceList.version + 1;
    const signature = bob.accountIdentity.sign(deviceListSignedMessage({ account: bob.account, version, devices }));
    const refused = await bob.client.request({
      type: 'device_list_update',
      id: 0,
      deviceList: { version, devices, signature },
      link: { linkId, provisioning: new Uint8Array(1) },
    });
    expect(refused).toMatchObject({ type: 'error', code: 'LINK_NOT_FOUND' });
  });
});
