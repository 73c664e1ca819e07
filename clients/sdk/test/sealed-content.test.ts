import { describe, expect, it } from 'vitest';
import { decodeContent, decodeEnvelopeContent, encodeContent } from '../src/content.ts';
import { DEFAULT_CLIENT_LIMITS, PulseError } from '../src/index.ts';
import { deliveryTokenOf } from '../src/sealed-sender.ts';
import { parseServerInfo } from '../src/server-info.ts';

const limits = DEFAULT_CLIENT_LIMITS;
const profileKey = Buffer.from(new Uint8Array(32).fill(9)).toString('base64');

describe('profile keys in content (PROTOCOL.md "Sealed sender")', () => {
  it('travel beside the content as `pk` and come back out; content without one reads as before', () => {
    const text = { t: 'text' as const, id: 'm1', text: 'hi', sentAt: 5 };
    expect(decodeEnvelopeContent(encodeContent(text, profileKey), limits)).toEqual({ content: text, profileKey });
    expect(decodeEnvelopeContent(encodeContent(text), limits)).toEqual({ content: text, profileKey: undefined });
    expect(decodeContent(encodeContent({ t: 'receipt', ids: ['m1'] }, profileKey), limits)).toEqual({
      t: 'receipt',
      ids: ['m1'],
    });
  });

  it('refuses a `pk` that is not 32 bytes of base64', () => {
    for (const bad of ['short', 42, `${profileKey}A`]) {
      const bytes = encodeContent({ t: 'receipt', ids: [] }, bad as string);
      expect(() => decodeEnvelopeContent(bytes, limits)).toThrow(PulseError);
    }
  });

  it('derive a delivery token by HKDF-SHA-256 (info pulse/v1/delivery-token), the same on every call', async () => {
    const key = new Uint8Array(32).fill(9);
    const token = await deliveryTokenOf(key);
    expect(token).toHaveLength(32);
    expect(await deliveryTokenOf(key)).toEqual(token);
    expect(await deliveryTokenOf(new Uint8Array(32).fill(8))).not.toEqual(token);
  });
});

describe('the trust root in /pulse/info', () => {
  const base = { protocolVersions: [2], websocket: { url: 'ws://h/pulse/ws' } };
  it('is read when it is a 33-byte Curve25519 key, and ignored otherwise', () => {
    const key = Uint8Array.of(0x05, ...new Uint8Array(32).fill(3));
    const info = (trustRoot: unknown) => parseServerInfo({ ...base, sealedSender: { trustRoot } }, 'http://h');
    expect(info(Buffer.from(key).toString('base64')).sealedSenderTrustRoot).toEqual(key);
    expect(info(Buffer.from(key.subarray(1)).toString('base64')).sealedSenderTrustRoot).toBeUndefined();
    expect(info(7).sealedSenderTrustRoot).toBeUndefined();
    expect(parseServerInfo(base, 'http://h').sealedSenderTrustRoot).toBeUndefined();
  });
});
