import { generateIdentityKeyPair, generatePqPreKey, generateSignedPreKey, type IdentityKeyPair } from '@pulse/crypto';
import { authSignedMessage, deviceListSignedMessage, linkRequestSignedMessage } from '@pulse/proto';
import type { FrameTransport } from '@pulse/sdk';
import { FrameClient } from './frame-client.ts';
import type { OpenTransport } from './wire-transport.ts';

/** A device as the server knows it, with its identity key pair and its current connection. */
export interface Device<T extends FrameTransport = FrameTransport> {
  readonly account: string;
  readonly deviceId: number;
  readonly identity: IdentityKeyPair;
  /** The account identity key pair, which signs the account's device lists (PROTOCOL.md "Devices"). */
  readonly accountIdentity: IdentityKeyPair;
  /** The authenticated connection (`reconnect` replaces it). */
  client: FrameClient<T>;
}

let accounts = 0;

/** An account name no other test of this process uses (servers may outlive a test). */
export function uniqueAccount(prefix = 'user'): string {
  accounts += 1;
  return `${prefix}${process.pid}x${accounts}`;
}

/** Registers a new account with one device on a new connection (PROTOCOL.md "register"). */
export async function register<T extends FrameTransport>(
  open: OpenTransport<T>,
  account = uniqueAccount(),
): Promise<Device<T>> {
  const identity = generateIdentityKeyPair();
  const accountIdentity = generateIdentityKeyPair();
  const client = await FrameClient.open(open);
  const ok = await client.register(account, identity, 'first', accountIdentity);
  return { account, deviceId: ok.deviceId, identity, accountIdentity, client };
}

/** Authenticates `device` by signature on a new connection, which becomes its `client` (PROTOCOL.md "auth"). */
export async function reconnect<T extends FrameTransport>(
  open: OpenTransport<T>,
  device: Device<T>,
): Promise<Device<T>> {
  const client = await FrameClient.connect(open);
  await authenticate(client, device);
  device.client = client;
  return device;
}

async function authenticate(client: FrameClient, device: Omit<Device, 'client'>): Promise<void> {
  await client.expect(
    {
      type: 'auth',
      id: 0,
      account: device.account,
      deviceId: device.deviceId,
      signature: device.identity.sign(authSignedMessage(client.challenge, device.account, device.deviceId)),
    },
    'auth_ok',
  );
}

/**
 * Links a new device to `existing`'s account as PROTOCOL.md "Linking" has it:
 * the new device asks on a connection of its own, `existing` signs the new
 * device list and approves (the provisioning bytes are opaque to the server:
 * placeholder bytes here), and the new device authenticates on that connection.
 */
export async function linkDevice<T extends FrameTransport>(
  open: OpenTransport<T>,
  existing: Device<T>,
  deviceName = 'second',
): Promise<Device<T>> {
  const identity = generateIdentityKeyPair();
  const client = await FrameClient.connect(open);
  const pending = await client.expect(
    {
      type: 'link_request',
      id: 0,
      account: existing.account,
      deviceName,
      identityKey: identity.publicKey,
      signedPreKey: generateSignedPreKey(identity, 1).toPublic(),
      pqPreKey: generatePqPreKey(identity, 2, { lastResort: true }).toPublic(),
      mac: new Uint8Array(32),
      signature: identity.sign(linkRequestSignedMessage(client.challenge, existing.account, identity.publicKey)),
    },
    'link_pending',
  );
  const { requests } = await existing.client.expect({ type: 'link_list', id: 0 }, 'links');
  const request = requests.find((r) => r.linkId === pending.linkId);
  if (request === undefined) throw new Error(`link ${pending.linkId} is not listed`);
  const current = await existing.client.expect({ type: 'device_list', id: 0 }, 'devices');
  const devices = [
    ...current.deviceList.devices,
    { deviceId: request.deviceId, identityKey: identity.publicKey, name: deviceName, addedAt: 2 },
  ];
  const version = current.deviceList.version + 1;
  const signature = existing.accountIdentity.sign(
    deviceListSignedMessage({ account: existing.account, version, devices }),
  );
  const approved = client.next('link_approved');
  await existing.client.expect(
    {
      type: 'device_list_update',
      id: 0,
      deviceList: { version, devices, signature },
      link: { linkId: request.linkId, provisioning: new Uint8Array(16) },
    },
    'ok',
  );
  const { deviceId } = await approved;
  const device = { account: existing.account, deviceId, identity, accountIdentity: existing.accountIdentity };
  await authenticate(client, device);
  return { ...device, client };
}
