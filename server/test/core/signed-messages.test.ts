import { authSignedMessage, linkRequestSignedMessage, registerSignedMessage } from '@pulse/proto';
import { describe, expect, it } from 'vitest';

// What the core's authentication checks signatures over (proto/src/signed-messages.ts).
describe('signed messages', () => {
  const challenge = new Uint8Array(32).fill(0xcc);
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  it('lays out context, separator, challenge, account and tail exactly', () => {
    const auth = authSignedMessage(challenge, 'bob', 0x01020304);
    expect(hex(auth)).toBe(
      `${Buffer.from('pulse/v1/auth').toString('hex')}00${'cc'.repeat(32)}03${Buffer.from('bob').toString('hex')}01020304`,
    );
    const key = new Uint8Array(33).fill(5);
    expect(hex(registerSignedMessage(challenge, 'bob', key))).toBe(
      `${Buffer.from('pulse/v1/register').toString('hex')}00${'cc'.repeat(32)}03${Buffer.from('bob').toString('hex')}${'05'.repeat(33)}`,
    );
    expect(
      hex(linkRequestSignedMessage(challenge, 'bob', key)).startsWith(
        Buffer.from('pulse/v2/link-request').toString('hex'),
      ),
    ).toBe(true);
  });
  it('refuses a challenge of the wrong length', () => {
    expect(() => authSignedMessage(new Uint8Array(31), 'bob', 1)).toThrow(RangeError);
  });
});
