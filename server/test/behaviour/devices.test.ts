import { generateIdentityKeyPair, generatePqPreKey, generateSignedPreKey, type IdentityKeyPair } from '@pulse/crypto';
import {
  type DeviceListEntry,
  deviceListSignedMessage,
  type FrameOf,
  linkRequestSignedMessage,
  registerSignedMessage,
} from '@pulse/proto';
import { type Device, FrameClient, InProcessServer, linkDevice, register, uniqueAccount } from '@pulse/testing';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/assertions.ts';

/** `account`'s list `version` of `devices`, signed by `signer` (the account key, or a forger's). */
function signedList(account: string, version: number, devices: DeviceListEntry[], signer: IdentityKeyPair) {
  const sorted = [...devices].sort((a, b) => a.deviceId - b.deviceId);
  return {
    version,
    devices: sorted,
    signature: signer.sign(deviceListSignedMessage({ account, version, devices: sorted })),
  };
}

async function currentList(device: Device): Promise<FrameOf<'devices'>> {
  return device.client.expect({ type: 'device_list', id: 0 }, 'devices');
}

/** A `link_request` for `account` from a fresh device on its own connection. */
async function askToJoin(server: InProcessServer, account: string, identity = generateIdentityKeyPair()) {
  const client = await FrameClient.connect(server.dial());
  const answer = await client.request({
    type: 'link_request',
    id: 0,
    account,
    deviceName: 'new',
    identityKey: identity.publicKey,
    signedPreKey: generateSignedPreKey(identity, 1).toPublic(),
    pqPreKey: generatePqPreKey(identity, 2, { lastResort: true }).toPublic(),
    mac: new Uint8Array(32),
    signature: identity.sign(linkRequestSignedMessage(client.challenge, account, identity.publicKey)),
  });
  return { client, answer, identity };
}

describe('devices: signed device lists and linking by approval', () => {
  let server: InProcessServer;
  beforeAll(() => {
    server = InProcessServer.start({ limits: { maxDevices: 3, maxPendingLinks: 2 } });
  });
  afterAll(() => server.stop());

  it('links a device an existing device approved, lists it, and removes it by a list without it', async () => {
    const first = await register(server.dial());
    const second = await linkDevice(server.dial(), first);
    expect(second.deviceId).toBe(2);
    const list = await currentList(first);
    expect(list.deviceList.version).toBe(2);
    expect(list.deviceList.devices.map((d) => d.deviceId)).toEqual([1, 2]);
    expect(list.accountKey).toEqual(first.accountIdentity.publicKey);
    expect(list.lastSeen?.map((d) => d.deviceId)).toEqual([1, 2]);

    const without = signedList(first.account, 3, [list.deviceList.devices[0]!], first.accountIdentity);
    const changed = first.client.next('device_list_changed');
    await second.client.expect({ type: 'device_list_update', id: 0, deviceList: without }, 'ok');
    expect(await changed).toMatchObject({ account: first.account, version: 3 });
    // The device removed itself here: any device in the list may sign one without another.
    await expectClose(second.client, 'AUTH_FAILED');
    expect((await currentList(first)).deviceList.devices.map((d) => d.deviceId)).toEqual([1]);
  });

  it("shows a link request to the account's connected devices, and lists it until approved", async () => {
    const first = await register(server.dial());
    const announced = first.client.next('link_requested');
    const { answer, identity } = await askToJoin(server, first.account);
    expect(answer.type).toBe('link_pending');
    const shown = await announced;
    expect(shown).toMatchObject({ deviceId: 2, deviceName: 'new', identityKey: identity.publicKey });
    const { requests } = await first.client.expect({ type: 'link_list', id: 0 }, 'links');
    expect(requests.map((r) => r.linkId)).toEqual([shown.linkId]);
  });

  it('a token alone links nothing: no device_link, no list without the account key, no device without a link', async () => {
    const account = uniqueAccount();
    const identity = generateIdentityKeyPair();
    const accountIdentity = generateIdentityKeyPair();
    const owner = await FrameClient.open(server.dial());
    const ok = await owner.register(account, identity, 'first', accountIdentity);

    // A thief with the token (and nothing else) authenticates as device 1.
    const thief = await FrameClient.connect(server.dial());
    await thief.expect({ type: 'auth_token', id: 0, token: ok.token }, 'auth_ok');
    const stranger = generateIdentityKeyPair();
    // Version 1's device_link is no frame of this protocol any more.
    thief.sendBytes(
      pack({
        type: 'device_link',
        id: 9,
        deviceName: 'x',
        identityKey: stranger.publicKey,
        signature: new Uint8Array(64),
      }),
    );
    expect(await thief.next('error')).toMatchObject({ code: 'PROTO_UNKNOWN_TYPE' });

    const first: DeviceListEntry = { deviceId: 1, identityKey: identity.publicKey, name: 'first', addedAt: 1 };
    const ghost: DeviceListEntry = { deviceId: 2, identityKey: stranger.publicKey, name: 'x', addedAt: 2 };
    const forged = signedList(account, 2, [first, ghost], stranger);
    const viewer = await FrameClient.connect(server.dial());
    await viewer.expect({ type: 'auth_token', id: 0, token: ok.token }, 'auth_ok');
    expect(await viewer.request({ type: 'device_list_update', id: 0, deviceList: forged })).toMatchObject({
      code: 'DEVICE_LIST_INVALID',
    });
    // Even signed by the account key, a new device needs the link its request made.
    const unlinked = signedList(account, 2, [first, ghost], accountIdentity);
    expect(await viewer.request({ type: 'device_list_update', id: 0, deviceList: unlinked })).toMatchObject({
      code: 'DEVICE_LIST_INVALID',
    });
    const list = await viewer.expect({ type: 'device_list', id: 0 }, 'devices');
    expect(list.deviceList.version).toBe(1);
    expect(list.lastSeen?.map((d) => d.deviceId)).toEqual([1]);
  });

  it('refuses a list whose version is not above the stored one (DEVICE_LIST_STALE)', async () => {
    const first = await register(server.dial());
    const { deviceList } = await currentList(first);
    for (const version of [1, 1]) {
      const stale = signedList(first.account, version, deviceList.devices, first.accountIdentity);
      expect(await first.client.request({ type: 'device_list_update', id: 0, deviceList: stale })).toMatchObject({
        code: 'DEVICE_LIST_STALE',
      });
    }
    const renamed = signedList(
      first.account,
      2,
      [{ ...deviceList.devices[0]!, name: 'renamed' }],
      first.accountIdentity,
    );
    await first.client.expect({ type: 'device_list_update', id: 0, deviceList: renamed }, 'ok');
    const again = signedList(first.account, 2, deviceList.devices, first.accountIdentity);
    expect(await first.client.request({ type: 'device_list_update', id: 0, deviceList: again })).toMatchObject({
      code: 'DEVICE_LIST_STALE',
    });
  });

  it('refuses a register whose first list is unsigned or does not hold exactly the new device', async () => {
    const identity = generateIdentityKeyPair();
    const accountIdentity = generateIdentityKeyPair();
    const account = uniqueAccount();
    const client = await FrameClient.connect(server.dial());
    const device = { deviceId: 1, identityKey: identity.publicKey, name: 'x', addedAt: 1 };
    const register = (deviceList: ReturnType<typeof signedList>) =>
      client.request({
        type: 'register',
        id: 0,
        account,
        deviceName: 'x',
        identityKey: identity.publicKey,
        signature: identity.sign(registerSignedMessage(client.challenge, account, identity.publicKey)),
        accountKey: accountIdentity.publicKey,
        deviceList,
      });
    const other = generateIdentityKeyPair();
    for (const bad of [
      signedList(account, 1, [device], other), // not by the account key
      signedList(account, 2, [device], accountIdentity), // not version 1
      signedList(account, 1, [{ ...device, identityKey: other.publicKey }], accountIdentity), // another device
      signedList(account, 1, [device, { ...device, deviceId: 2 }], accountIdentity), // two devices
    ]) {
      expect(await register(bad)).toMatchObject({ code: 'DEVICE_LIST_INVALID' });
    }
    expect(await register(signedList(account, 1, [device], accountIdentity))).toMatchObject({ type: 'auth_ok' });
  });

  it('refuses a link request not signed by its key, for no account, or beyond max_pending_links', async () => {
    const first = await register(server.dial());
    const forger = await FrameClient.connect(server.dial());
    const identity = generateIdentityKeyPair();
    const forged = await forger.request({
      type: 'link_request',
      id: 0,
      account: first.account,
      deviceName: 'x',
      identityKey: identity.publicKey,
      signedPreKey: generateSignedPreKey(identity, 1).toPublic(),
      pqPreKey: generatePqPreKey(identity, 2, { lastResort: true }).toPublic(),
      mac: new Uint8Array(32),
      signature: first.identity.sign(linkRequestSignedMessage(forger.challenge, first.account, identity.publicKey)),
    });
    expect(forged).toMatchObject({ code: 'AUTH_FAILED' });
    expect((await askToJoin(server, uniqueAccount('nobody'))).answer).toMatchObject({ code: 'NOT_FOUND' });
    const asks = [await askToJoin(server, first.account), await askToJoin(server, first.account)];
    expect(asks.map((a) => a.answer.type)).toEqual(['link_pending', 'link_pending']);
    // Two links pending get two different ids.
    const { requests } = await first.client.expect({ type: 'link_list', id: 0 }, 'links');
    expect(requests.map((r) => r.deviceId)).toEqual([2, 3]);
    expect((await askToJoin(server, first.account)).answer).toMatchObject({ code: 'RATE_LIMITED' });
    expect(await server.metrics()).toMatch(/limit="pending_links"[^\n]* 1/);
  });

  it('refuses an approval for no pending link (LINK_NOT_FOUND), and never reuses a device id', async () => {
    const first = await register(server.dial());
    const { deviceList } = await currentList(first);
    const stranger = generateIdentityKeyPair();
    const list = signedList(
      first.account,
      2,
      [...deviceList.devices, { deviceId: 2, identityKey: stranger.publicKey, name: 'x', addedAt: 2 }],
      first.accountIdentity,
    );
    const answer = await first.client.request({
      type: 'device_list_update',
      id: 0,
      deviceList: list,
      link: { linkId: 'no-such-link', provisioning: new Uint8Array(4) },
    });
    expect(answer).toMatchObject({ code: 'LINK_NOT_FOUND' });
    const second = await linkDevice(server.dial(), first);
    const kept = (await currentList(first)).deviceList;
    const without = signedList(first.account, kept.version + 1, [kept.devices[0]!], first.accountIdentity);
    await first.client.expect({ type: 'device_list_update', id: 0, deviceList: without }, 'ok');
    await expectClose(second.client, 'AUTH_FAILED');
    expect((await linkDevice(server.dial(), first)).deviceId).toBe(3);
  });

  it("counts lookups of another account's list against the directory budget (prekey_fetches)", async () => {
    const small = InProcessServer.start({ limits: { prekeyFetches: 2 } });
    try {
      const first = await register(small.dial());
      const other = await register(small.dial());
      const lookup = () => first.client.request({ type: 'device_list', id: 0, account: other.account });
      expect((await lookup()).type).toBe('devices');
      expect((await lookup()).type).toBe('devices');
      expect(await lookup()).toMatchObject({ code: 'RATE_LIMITED' });
      // Its own list is no lookup.
      expect((await currentList(first)).account).toBe(first.account);
    } finally {
      await small.stop();
    }
  });

  it('forgets a link whose new device left: its approval is LINK_NOT_FOUND and adds nothing', async () => {
    const first = await register(server.dial());
    const { client, answer, identity } = await askToJoin(server, first.account);
    if (answer.type !== 'link_pending') throw new Error(`no link: ${answer.type}`);
    const { requests } = await first.client.expect({ type: 'link_list', id: 0 }, 'links');
    const request = requests.find((r) => r.linkId === answer.linkId)!;
    client.close();
    await client.closed();
    // The server notices the close on its side of the connection: wait until the link is gone.
    for (let i = 0; i < 100; i++) {
      const listed = await first.client.expect({ type: 'link_list', id: 0 }, 'links');
      if (listed.requests.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const { deviceList } = await currentList(first);
    const added = { deviceId: request.deviceId, identityKey: identity.publicKey, name: 'new', addedAt: 2 };
    const list = signedList(first.account, 2, [...deviceList.devices, added], first.accountIdentity);
    const refused = await first.client.request({
      type: 'device_list_update',
      id: 0,
      deviceList: list,
      link: { linkId: request.linkId, provisioning: new Uint8Array(4) },
    });
    expect(refused).toMatchObject({ code: 'LINK_NOT_FOUND' });
    expect((await currentList(first)).deviceList.version).toBe(1);
  });

  it('refuses a list beyond max_devices', async () => {
    const first = await register(server.dial());
    await linkDevice(server.dial(), first);
    await linkDevice(server.dial(), first);
    const { answer } = await askToJoin(server, first.account);
    if (answer.type !== 'link_pending') throw new Error(`no link: ${answer.type}`);
    const { requests } = await first.client.expect({ type: 'link_list', id: 0 }, 'links');
    const request = requests.find((r) => r.linkId === answer.linkId)!;
    const { deviceList } = await currentList(first);
    const over = signedList(
      first.account,
      deviceList.version + 1,
      [...deviceList.devices, { deviceId: request.deviceId, identityKey: request.identityKey, name: 'x', addedAt: 3 }],
      first.accountIdentity,
    );
    const refused = await first.client.request({
      type: 'device_list_update',
      id: 0,
      deviceList: over,
      link: { linkId: request.linkId, provisioning: new Uint8Array(4) },
    });
    expect(refused).toMatchObject({ code: 'DEVICE_LIST_INVALID', message: 'an account has at most 3 devices' });
  });
});
