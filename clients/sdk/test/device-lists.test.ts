import { IdentityKeyPair } from '@pulse/crypto';
import type { DeviceListEntry } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import { advanceList, listSignedBy, signDeviceList, toStored, toWire } from '../src/device-lists.ts';
import { PulseError } from '../src/errors.ts';

const account = IdentityKeyPair.generate();
const device = (deviceId: number, name = `d${deviceId}`): DeviceListEntry => ({
  deviceId,
  identityKey: IdentityKeyPair.generate().publicKey,
  name,
  addedAt: 1_700_000_000_000 + deviceId,
});
const one = device(1);
const two = device(2, 'phone');

describe('signed device lists', () => {
  it('verify under the account key that signed them, for that account only', () => {
    const list = signDeviceList('bob', 1, [one], account);
    expect(listSignedBy('bob', account.publicKey, list)).toBe(true);
    expect(listSignedBy('bobby', account.publicKey, list)).toBe(false);
    expect(listSignedBy('bob', IdentityKeyPair.generate().publicKey, list)).toBe(false);
  });

  it('do not verify once anything in them changes (a device added, a key swapped, the version)', () => {
    const list = signDeviceList('bob', 2, [one, two], account);
    const swapped = { ...list, devices: [one, { ...two, identityKey: IdentityKeyPair.generate().publicKey }] };
    expect(listSignedBy('bob', account.publicKey, swapped)).toBe(false);
    expect(listSignedBy('bob', account.publicKey, { ...list, devices: [one, two, device(3)] })).toBe(false);
    expect(listSignedBy('bob', account.publicKey, { ...list, version: 3 })).toBe(false);
    expect(listSignedBy('bob', account.publicKey, { ...list, devices: [two, one] })).toBe(false);
  });

  it('are signed in canonical order whatever order they are given in', () => {
    const list = signDeviceList('bob', 2, [two, one], account);
    expect(list.devices.map((d) => d.deviceId)).toEqual([1, 2]);
    expect(listSignedBy('bob', account.publicKey, list)).toBe(true);
  });

  it('round-trip through the stored form', () => {
    const list = signDeviceList('bob', 2, [one, two], account);
    expect(toWire(toStored(list))).toEqual(list);
  });
});

describe('advancing to a presented list', () => {
  const v1 = toStored(signDeviceList('bob', 1, [one], account));
  const v2 = signDeviceList('bob', 2, [one, two], account);

  it('accepts the first list seen without reporting changes (trust on first use)', () => {
    const change = advanceList('bob', undefined, v2);
    expect(change).toMatchObject({ hadList: false, added: [], removed: [] });
    expect(change.list.version).toBe(2);
  });

  it('reports devices added and removed by a newer version', () => {
    const added = advanceList('bob', v1, v2);
    expect(added.added).toEqual([{ deviceId: 2, name: 'phone', addedAt: two.addedAt }]);
    const removed = advanceList('bob', added.list, signDeviceList('bob', 3, [two], account));
    expect(removed.removed).toEqual([{ deviceId: 1, name: 'd1', addedAt: one.addedAt }]);
    expect(removed.added).toEqual([]);
  });

  it('refuses a rollback to an older version with DEVICE_LIST_ROLLBACK', () => {
    const later = advanceList('bob', v1, v2).list;
    let error: unknown;
    try {
      advanceList('bob', later, toWire(v1));
    } catch (caught) {
      error = caught;
    }
    expect(PulseError.is(error, 'DEVICE_LIST_ROLLBACK')).toBe(true);
  });

  it('refuses two different lists under one version (equivocation), accepts the same one again', () => {
    const other = signDeviceList('bob', 1, [device(1, 'other')], account);
    expect(() => advanceList('bob', v1, other)).toThrow(expect.objectContaining({ code: 'DEVICE_LIST_INVALID' }));
    expect(advanceList('bob', v1, toWire(v1)).list).toBe(v1);
  });

  it('names devices whose key changed between versions, so their sessions are dropped', () => {
    const rekeyed = signDeviceList('bob', 2, [{ ...one, identityKey: IdentityKeyPair.generate().publicKey }], account);
    expect(advanceList('bob', v1, rekeyed).rekeyed).toEqual([1]);
  });
});
