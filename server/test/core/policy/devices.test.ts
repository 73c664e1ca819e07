import { describe, expect, it } from 'vitest';
import { checkLink, checkRemoval } from '../../../src/core/policy/devices.ts';
import type { DeviceRecord } from '../../../src/core/store.ts';

const key = (n: number) => new Uint8Array(33).fill(n);
const devices = (...ids: number[]): DeviceRecord[] =>
  ids.map((deviceId) => ({
    account: 'alice',
    deviceId,
    name: `d${deviceId}`,
    identityKey: key(deviceId),
    createdAt: 0,
    lastSeenAt: 0,
  }));

describe('device rules (no store)', () => {
  it('links below max_devices a key not linked yet; NOT_FOUND for no account', () => {
    expect(() => checkLink('alice', devices(1), key(9), 2)).not.toThrow();
    expect(() => checkLink('alice', devices(1, 2), key(9), 2)).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN', message: 'an account has at most 2 devices' }),
    );
    expect(() => checkLink('alice', devices(1, 2), key(2), 5)).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN', message: 'this identity key is already linked to the account' }),
    );
    expect(() => checkLink('nobody', [], key(9), 5)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('removes an existing device, never the last one', () => {
    expect(() => checkRemoval(devices(1, 2), 2)).not.toThrow();
    expect(() => checkRemoval(devices(1, 2), 3)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => checkRemoval(devices(1), 1)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });
});
