import { equalBytes } from '../bytes.ts';
import { PulseError } from '../errors.ts';
import type { DeviceRecord } from '../store.ts';

/**
 * Device rules (PROTOCOL.md "Devices"), decided on the account's devices as read:
 * `devices` empty means no such account.
 */

/** `device_link`: the account exists, the key is not linked yet, and the account is below `maxDevices`. */
export function checkLink(
  account: string,
  devices: readonly DeviceRecord[],
  identityKey: Uint8Array,
  maxDevices: number,
): void {
  if (devices.length === 0) throw new PulseError('NOT_FOUND', `no account ${account}`);
  if (devices.some((device) => equalBytes(device.identityKey, identityKey))) {
    throw new PulseError('FORBIDDEN', 'this identity key is already linked to the account');
  }
  if (devices.length >= maxDevices) throw new PulseError('FORBIDDEN', `an account has at most ${maxDevices} devices`);
}

/** `device_remove`: the device exists and is not the account's last one. */
export function checkRemoval(devices: readonly DeviceRecord[], deviceId: number): void {
  if (!devices.some((device) => device.deviceId === deviceId)) {
    throw new PulseError('NOT_FOUND', `no device ${deviceId}`);
  }
  if (devices.length === 1) throw new PulseError('FORBIDDEN', 'the last device of an account cannot be removed');
}
