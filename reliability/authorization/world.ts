import { randomBytes } from 'node:crypto';
import { generateIdentityKeyPair, generatePqPreKey, generateSignedPreKey } from '@pulse/crypto';
import { authSignedMessage, deviceListSignedMessage, type FrameOf, prekeysUploadSignedMessage } from '@pulse/proto';
import { type Device, FrameClient, linkDevice, type OpenTransport, register } from '@pulse/testing/protocol';
import { linkRequestFrame } from './frames.ts';

/**
 * The accounts the authorization matrix plays with (PROTOCOL.md "Devices",
 * "Linking"): alice (device 1, online, subscribed to her private channel, with
 * prekeys and a pending link request), alice's device 2 linked and then removed
 * by a signed device list, and bob, another account. Names have equal lengths,
 * so one can be written over the other inside a token.
 */
export interface World {
  readonly open: OpenTransport;
  readonly alice: Device;
  readonly bob: Device;
  readonly bobToken: Uint8Array;
  /** Alice's device 2 after its removal; its connection from before is in `removedClient`. */
  readonly removed: Omit<Device, 'client'>;
  readonly removedToken: Uint8Array;
  /** The close the removed device's live connection got. */
  readonly removedClosedWith: string;
  /** Alice's private channel, which she is subscribed to. */
  readonly aliceChannel: string;
  /** The id of a link request pending on alice's account. */
  readonly aliceLinkId: string;
}

function accountName(suffix: string): string {
  return `az${randomBytes(5).toString('hex')}${suffix}`;
}

/** Authenticates `device` by signature on a new connection and keeps that auth_ok (its token). */
export async function authenticate(
  open: OpenTransport,
  device: Omit<Device, 'client'>,
): Promise<{ client: FrameClient; ok: FrameOf<'auth_ok'> }> {
  const client = await FrameClient.connect(open);
  const ok = await client.expect(
    {
      type: 'auth',
      id: 0,
      account: device.account,
      deviceId: device.deviceId,
      signature: device.identity.sign(authSignedMessage(client.challenge, device.account, device.deviceId)),
    },
    'auth_ok',
  );
  return { client, ok };
}

/** Removes `deviceId` from `owner`'s account with a new signed device list without it. */
export async function removeDevice(owner: Device, deviceId: number): Promise<void> {
  const current = await owner.client.expect({ type: 'device_list', id: 0 }, 'devices');
  const devices = (
    current.deviceList.devices as { deviceId: number; identityKey: Uint8Array; name: string; addedAt: number }[]
  ).filter((d) => d.deviceId !== deviceId);
  const version = current.deviceList.version + 1;
  const signature = owner.accountIdentity.sign(deviceListSignedMessage({ account: owner.account, version, devices }));
  await owner.client.expect({ type: 'device_list_update', id: 0, deviceList: { version, devices, signature } }, 'ok');
}

export async function buildWorld(open: OpenTransport): Promise<World> {
  const alice = await register(open, accountName('a'));
  const bob = await register(open, accountName('b'));
  // A second authentication replaces bob's first connection (SESSION_REPLACED): bob goes on with the new one.
  const bobSession = await authenticate(open, bob);
  bob.client = bobSession.client;
  const bobToken = bobSession.ok.token;

  const second = await linkDevice(open, alice);
  const removedToken = (await authenticate(open, second)).ok.token;
  // `authenticate` replaced the linked connection (SESSION_REPLACED): watch the newest one hear its removal.
  const live = await authenticate(open, second);
  await removeDevice(alice, second.deviceId);
  const removedClosedWith = await live.client.next('close').then(
    (frame) => frame.code,
    () => 'no close frame',
  );

  const aliceChannel = `private:${alice.account}/inbox`;
  await alice.client.expect({ type: 'subscribe', id: 0, channel: aliceChannel }, 'subscribed');
  await alice.client.expect(
    {
      type: 'prekeys_upload',
      id: 0,
      signedPreKey: generateSignedPreKey(alice.identity, 1).toPublic(),
      pqLastResortPreKey: generatePqPreKey(alice.identity, 2, { lastResort: true }).toPublic(),
      proof: alice.identity.sign(prekeysUploadSignedMessage(alice.client.challenge, alice.account, alice.deviceId)),
    },
    'ok',
  );
  // A link request pending on alice's account (nobody approves it).
  const stranger = generateIdentityKeyPair();
  const pending = await requestLink(open, alice.account, stranger);
  return {
    open,
    alice,
    bob,
    bobToken,
    removed: {
      account: second.account,
      deviceId: second.deviceId,
      identity: second.identity,
      accountIdentity: second.accountIdentity,
    },
    removedToken,
    removedClosedWith,
    aliceChannel,
    aliceLinkId: pending.linkId,
  };
}

/** A valid `link_request` for `account` by the holder of `identity`, on a connection of its own. */
export async function requestLink(
  open: OpenTransport,
  account: string,
  identity: ReturnType<typeof generateIdentityKeyPair>,
  onOpen?: (client: FrameClient) => void,
): Promise<FrameOf<'link_pending'> & { client: FrameClient }> {
  const client = await FrameClient.connect(open);
  onOpen?.(client);
  const pending = await client.expect(linkRequestFrame(client.challenge, account, identity), 'link_pending');
  return { ...pending, client };
}
