import { describe, expect, it } from 'vitest';
import { decodeContent, encodeContent } from '../src/content.ts';
import { type ChannelControl, isEncryptedChannelName } from '../src/encrypted-channels/control.ts';
import { newEncryptedChannelName } from '../src/encrypted-channels/encrypted-channels.ts';
import {
  ciphertextOf,
  ENCRYPTED_CHANNEL_FORMAT,
  pad,
  sealedPayload,
  unpad,
} from '../src/encrypted-channels/sealing.ts';
import { PulseError } from '../src/errors.ts';

const limits = { maxTextLength: 4000, maxGroupMembers: 3 };
const channel = 'public:e2e.0123abcd';
const key = '0123456789abcdef0123456789abcdef';
const membership: ChannelControl = {
  t: 'channel',
  channel,
  key,
  members: ['ann', 'bob'],
  removed: ['cat'],
  senderKey: 'AAEC',
  access: { epoch: 'e1', offset: 7 },
};

function refused(value: Record<string, unknown>): boolean {
  try {
    decodeContent(encodeContent(value as never), limits);
    return false;
  } catch (error) {
    return PulseError.is(error, 'BAD_INPUT');
  }
}

describe('encrypted channel control messages (inside the 1:1 encryption)', () => {
  it('a membership change and a sender key survive encoding and decoding unchanged', () => {
    expect(decodeContent(encodeContent(membership), limits)).toEqual(membership);
    const senderKey: ChannelControl = { t: 'channel_key', channel, distribution: 'AAEC' };
    expect(decodeContent(encodeContent(senderKey), limits)).toEqual(senderKey);
  });

  it('refuses a peer’s malformed fields', () => {
    expect(refused({ ...membership, channel: 'private:ann' })).toBe(true); // one account's namespace
    expect(refused({ ...membership, channel: `public:${'x'.repeat(128)}` })).toBe(true);
    expect(refused({ ...membership, key: 'not-hex' })).toBe(true);
    expect(refused({ ...membership, members: ['ann', 'bob', 'cat', 'dan'] })).toBe(true); // over maxGroupMembers
    expect(refused({ ...membership, members: ['Not An Account'] })).toBe(true);
    expect(refused({ ...membership, access: { epoch: 'e1', offset: -1 } })).toBe(true);
    expect(refused({ ...membership, access: { epoch: 5, offset: 1 } })).toBe(true);
    expect(refused({ ...membership, senderKey: 'A'.repeat(5000) })).toBe(true);
    expect(refused({ t: 'channel_key', channel, distribution: 42 })).toBe(true);
    expect(refused({ ...membership, access: undefined })).toBe(false); // the control case: a valid one passes
  });

  it('names: random ones are valid, and only public: names can be shared by several accounts', () => {
    const a = newEncryptedChannelName();
    expect(isEncryptedChannelName(a)).toBe(true);
    expect(a).not.toBe(newEncryptedChannelName());
    expect(isEncryptedChannelName('user:ann')).toBe(false);
    expect(isEncryptedChannelName('public:a//b')).toBe(false);
  });
});

describe('encrypted channel payloads', () => {
  it('pads to a multiple of 160 bytes and unpads back', () => {
    for (const length of [0, 1, 159, 160, 161, 1000]) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      const padded = pad(bytes);
      expect(padded.length % 160).toBe(0);
      expect(padded.length).toBeGreaterThan(length);
      expect(unpad(padded)).toEqual(bytes);
    }
    expect(() => unpad(new Uint8Array(160))).toThrow(PulseError);
  });

  it('frames the Sender Key message behind one format byte; anything else is not one', () => {
    const ciphertext = Uint8Array.of(9, 8, 7);
    const payload = sealedPayload(ciphertext);
    expect(payload[0]).toBe(ENCRYPTED_CHANNEL_FORMAT);
    expect(ciphertextOf(payload)).toEqual(ciphertext);
    expect(() => ciphertextOf(new TextEncoder().encode('plain text'))).toThrow(PulseError);
    expect(() => ciphertextOf(Uint8Array.of(ENCRYPTED_CHANNEL_FORMAT))).toThrow(PulseError);
  });
});
