import { describe, expect, it } from 'vitest';
import {
  canonicalLinkCode,
  DEFAULT_PROTO_LIMITS,
  deviceListSignedMessage,
  FrameCodec,
  LINK_CODE_ALPHABET,
  linkCodeFromRandom,
  linkCodeMacMessage,
  ProtoError,
} from '../src/index.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const ascii = (text: string) => Buffer.from(text, 'utf8').toString('hex');
const key = Uint8Array.of(0x05, 0xaa, 0xbb);

describe('the signed device list bytes', () => {
  it('are the context, the account, the version and each device in order, length-prefixed', () => {
    const message = deviceListSignedMessage({
      account: 'bob',
      version: 7,
      devices: [
        { deviceId: 1, identityKey: key, name: 'pc', addedAt: 2 ** 32 + 5 },
        { deviceId: 3, identityKey: key, name: '', addedAt: 0 },
      ],
    });
    expect(hex(message)).toBe(
      `${ascii('pulse/v2/device-list')}00` +
        `03${ascii('bob')}` +
        '00000007' +
        '0002' +
        `00000001 0003 05aabb 0002 ${ascii('pc')} 0000000100000005`.replaceAll(' ', '') +
        '00000003 0003 05aabb 0000 0000000000000000'.replaceAll(' ', ''),
    );
  });

  it('differ when any field differs (account, version, a device id, key, name or time)', () => {
    const base = { account: 'bob', version: 2, devices: [{ deviceId: 1, identityKey: key, name: 'a', addedAt: 1 }] };
    const variants = [
      { ...base, account: 'bobb' },
      { ...base, version: 3 },
      { ...base, devices: [{ ...base.devices[0]!, deviceId: 2 }] },
      { ...base, devices: [{ ...base.devices[0]!, identityKey: Uint8Array.of(0x05, 0xaa, 0xbc) }] },
      { ...base, devices: [{ ...base.devices[0]!, name: 'b' }] },
      { ...base, devices: [{ ...base.devices[0]!, addedAt: 2 }] },
    ];
    const all = [base, ...variants].map((list) => hex(deviceListSignedMessage(list)));
    expect(new Set(all).size).toBe(all.length);
  });

  it('exist only for canonical lists: ids ascending and unique, version at least 1', () => {
    const device = (deviceId: number) => ({ deviceId, identityKey: key, name: 'x', addedAt: 1 });
    expect(() => deviceListSignedMessage({ account: 'bob', version: 1, devices: [device(2), device(1)] })).toThrow(
      RangeError,
    );
    expect(() => deviceListSignedMessage({ account: 'bob', version: 1, devices: [device(1), device(1)] })).toThrow(
      RangeError,
    );
    expect(() => deviceListSignedMessage({ account: 'bob', version: 0, devices: [device(1)] })).toThrow(RangeError);
  });

  it('travel only in canonical form: the decoder refuses unsorted, duplicate or empty device lists', () => {
    const codec = new FrameCodec(DEFAULT_PROTO_LIMITS);
    const entry = (deviceId: number) => ({ deviceId, identityKey: key, name: 'x', addedAt: 1 });
    const update = (devices: ReturnType<typeof entry>[]) =>
      codec.encode({
        type: 'device_list_update',
        id: 1,
        deviceList: { version: 2, devices, signature: new Uint8Array(64) },
      });
    expect(codec.decode(update([entry(1), entry(4)])).type).toBe('device_list_update');
    for (const devices of [[entry(4), entry(1)], [entry(1), entry(1)], []]) {
      expect(() => codec.decode(update(devices))).toThrow(ProtoError);
    }
  });
});

describe('the link code', () => {
  it('is ten Crockford base32 characters in two groups of five', () => {
    const code = linkCodeFromRandom(Uint8Array.from({ length: 10 }, (_, i) => i * 37));
    expect(code).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    expect([...code.replace('-', '')].every((c) => LINK_CODE_ALPHABET.includes(c))).toBe(true);
    expect(LINK_CODE_ALPHABET).toHaveLength(32);
  });

  it('is read back however the user typed it, and nothing else is a code', () => {
    expect(canonicalLinkCode(' 7k3qf - m2xwd ')).toBe('7K3QFM2XWD');
    expect(canonicalLinkCode('OILOI-12345')).toBe('01101' + '12345');
    expect(canonicalLinkCode('7K3QF-M2XW')).toBeUndefined();
    expect(canonicalLinkCode('7K3QF-M2XWU')).toBeUndefined();
  });

  it("MAC message binds the account, the device's name and its identity key", () => {
    expect(hex(linkCodeMacMessage('bob', 'pc', key))).toBe(
      `${ascii('pulse/v2/link-code')}00 03${ascii('bob')} 0002${ascii('pc')} 05aabb`.replaceAll(' ', ''),
    );
  });
});
