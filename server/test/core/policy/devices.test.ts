import { generateIdentityKeyPair, xeddsaVerify } from '@pulse/crypto';
import { type DeviceListEntry, deviceListSignedMessage } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import { checkFirstList, checkListUpdate, proposeDeviceId } from '../../../src/core/policy/devices.ts';
import type { DeviceRecord, StoredDeviceList } from '../../../src/core/store.ts';

const accountIdentity = generateIdentityKeyPair();
const keys = [generateIdentityKeyPair(), generateIdentityKeyPair(), generateIdentityKeyPair()].map((k) => k.publicKey);
const entry = (deviceId: number): DeviceListEntry => ({
  deviceId,
  identityKey: keys[deviceId - 1]!,
  name: `d${deviceId}`,
  addedAt: deviceId,
});
const sign = (version: number, devices: DeviceListEntry[], by = accountIdentity) => ({
  version,
  devices,
  signature: by.sign(deviceListSignedMessage({ account: 'alice', version, devices })),
});
const rows = (...ids: number[]): DeviceRecord[] =>
  ids.map((deviceId) => ({
    account: 'alice',
    deviceId,
    name: `d${deviceId}`,
    identityKey: keys[deviceId - 1]!,
    createdAt: 0,
    lastSeenAt: 0,
  }));
const stored = (version: number, ...ids: number[]): StoredDeviceList => ({
  accountKey: accountIdentity.publicKey,
  ...sign(version, ids.map(entry)),
});
const code = (run: () => unknown) => {
  try {
    run();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe('device list rules (no store)', () => {
  it('register: version 1, exactly the registering device, signed by the account key', () => {
    const device = { identityKey: keys[0]!, deviceName: 'd1' };
    const first = (list: ReturnType<typeof sign>) =>
      code(() => checkFirstList(xeddsaVerify, 'alice', device, accountIdentity.publicKey, list));
    expect(first(sign(1, [entry(1)]))).toBe('ok');
    expect(first(sign(1, [entry(1)], generateIdentityKeyPair()))).toBe('DEVICE_LIST_INVALID');
    expect(first(sign(2, [entry(1)]))).toBe('DEVICE_LIST_INVALID');
    expect(first(sign(1, [entry(1), entry(2)]))).toBe('DEVICE_LIST_INVALID');
    expect(first(sign(1, [{ ...entry(1), name: 'other' }]))).toBe('DEVICE_LIST_INVALID');
  });

  it('update: a newer version signed by the stored key; removals follow from the list', () => {
    const write = checkListUpdate(
      xeddsaVerify,
      'alice',
      stored(2, 1, 2),
      rows(1, 2),
      sign(3, [entry(1)]),
      undefined,
      5,
      9,
    );
    expect(write).toMatchObject({ expectedVersion: 2, remove: [2], add: undefined });
    expect(write.list.version).toBe(3);
  });

  it('update: the device of the link is added with the id it was proposed, and nothing else is', () => {
    const link = { deviceId: 3, deviceName: 'new', identityKey: keys[2]! };
    const write = checkListUpdate(
      xeddsaVerify,
      'alice',
      stored(1, 1),
      rows(1),
      sign(2, [entry(1), entry(3)]),
      link,
      5,
      9,
    );
    expect(write.add).toEqual({ deviceId: 3, name: 'new', identityKey: keys[2], now: 9 });
    const elsewhere = { ...link, deviceId: 4 };
    expect(
      code(() =>
        checkListUpdate(xeddsaVerify, 'alice', stored(1, 1), rows(1), sign(2, [entry(1), entry(3)]), elsewhere, 5, 9),
      ),
    ).toBe('DEVICE_LIST_INVALID');
    expect(
      code(() => checkListUpdate(xeddsaVerify, 'alice', stored(1, 1), rows(1), sign(2, [entry(1)]), link, 5, 9)),
    ).toBe('DEVICE_LIST_INVALID');
  });

  it('update: refuses another signer, an old version, a changed key, too many devices', () => {
    const update = (list: ReturnType<typeof sign>, max = 5) =>
      code(() => checkListUpdate(xeddsaVerify, 'alice', stored(2, 1, 2), rows(1, 2), list, undefined, max, 9));
    expect(update(sign(3, [entry(1)], generateIdentityKeyPair()))).toBe('DEVICE_LIST_INVALID');
    expect(update(sign(2, [entry(1)]))).toBe('DEVICE_LIST_STALE');
    expect(update(sign(1, [entry(1)]))).toBe('DEVICE_LIST_STALE');
    expect(update(sign(3, [entry(1), { ...entry(2), identityKey: keys[2]! }]))).toBe('DEVICE_LIST_INVALID');
    expect(update(sign(3, [entry(1), entry(2)]), 1)).toBe('DEVICE_LIST_INVALID');
    const twin = { deviceId: 3, deviceName: 'twin', identityKey: keys[0]! };
    const twice = sign(3, [entry(1), entry(2), { ...entry(3), identityKey: keys[0]! }]);
    expect(code(() => checkListUpdate(xeddsaVerify, 'alice', stored(2, 1, 2), rows(1, 2), twice, twin, 5, 9))).toBe(
      'DEVICE_LIST_INVALID',
    );
  });

  it('proposes a device id above every id used or proposed', () => {
    expect(proposeDeviceId(2, 0)).toBe(2);
    expect(proposeDeviceId(2, 4)).toBe(5);
  });
});
