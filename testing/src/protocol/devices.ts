import { generateIdentityKeyPair, type IdentityKeyPair } from '@pulse/crypto';
import { authSignedMessage, deviceLinkSignedMessage } from '@pulse/proto';
import type { FrameTransport } from '@pulse/sdk';
import { FrameClient } from './frame-client.ts';
import type { OpenTransport } from './wire-transport.ts';

/** A device as the server knows it, with its identity key pair and its current connection. */
export interface Device<T extends FrameTransport = FrameTransport> {
  readonly account: string;
  readonly deviceId: number;
  readonly identity: IdentityKeyPair;
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
  const client = await FrameClient.open(open);
  const ok = await client.register(account, identity);
  return { account, deviceId: ok.deviceId, identity, client };
}

/** Authenticates `device` by signature on a new connection, which becomes its `client` (PROTOCOL.md "auth"). */
export async function reconnect<T extends FrameTransport>(
  open: OpenTransport<T>,
  device: Device<T>,
): Promise<Device<T>> {
  const client = await FrameClient.connect(open);
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
  device.client = client;
  return device;
}

/** Links a new device to `existing`'s account, then authenticates it on a connection of its own. */
export async function linkDevice<T extends FrameTransport>(
  open: OpenTransport<T>,
  existing: Device<T>,
): Promise<Device<T>> {
  const identity = generateIdentityKeyPair();
  const linked = await existing.client.expect(
    {
      type: 'device_link',
      id: 0,
      deviceName: 'second',
      identityKey: identity.publicKey,
      signature: identity.sign(
        deviceLinkSignedMessage(existing.client.challenge, existing.account, identity.publicKey),
      ),
    },
    'device_linked',
  );
  return reconnect(open, { account: existing.account, deviceId: linked.deviceId, identity, client: existing.client });
}
