import { describe, expect, it } from 'vitest';
import { type PendingLink, PendingLinks } from '../../src/core/links.ts';

function link(account: string, linkId: string, deviceId: number, expiresAt: number, waiting = () => true): PendingLink {
  const key = new Uint8Array(33);
  const prekey = { keyId: 1, publicKey: key, signature: new Uint8Array(64) };
  return {
    account,
    request: {
      linkId,
      deviceId,
      deviceName: 'x',
      identityKey: key,
      signedPreKey: prekey,
      pqPreKey: prekey,
      mac: new Uint8Array(32),
      requestedAt: 0,
      expiresAt,
    },
    approve: () => {},
    waiting,
  };
}

const code = (run: () => void) => {
  try {
    run();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe('pending links (no store)', () => {
  it('bounds the links per account and on the server (RATE_LIMITED)', () => {
    const links = new PendingLinks({ maxPendingLinks: 2, maxPendingLinksTotal: 3 });
    expect(code(() => links.add(link('bob', 'a', 2, 100), 0))).toBe('ok');
    expect(code(() => links.add(link('bob', 'b', 3, 100), 0))).toBe('ok');
    expect(code(() => links.add(link('bob', 'c', 4, 100), 0))).toBe('RATE_LIMITED');
    expect(code(() => links.add(link('carol', 'd', 2, 100), 0))).toBe('ok');
    expect(code(() => links.add(link('dave', 'e', 2, 100), 0))).toBe('RATE_LIMITED');
    expect(links.size).toBe(3);
  });

  it('forgets a link once it expired or its connection closed, freeing its place', () => {
    let open = true;
    const links = new PendingLinks({ maxPendingLinks: 1, maxPendingLinksTotal: 10 });
    links.add(
      link('bob', 'a', 2, 100, () => open),
      0,
    );
    expect(links.get('bob', 'a', 50)?.request.deviceId).toBe(2);
    expect(links.get('carol', 'a', 50)).toBeUndefined();
    open = false;
    expect(links.list('bob', 50)).toEqual([]);
    links.add(link('bob', 'b', 3, 100), 50);
    expect(links.get('bob', 'b', 100)).toBeUndefined();
    expect(code(() => links.add(link('bob', 'c', 4, 200), 100))).toBe('ok');
  });

  it('knows the highest device id proposed to an account, so two links never share one', () => {
    const links = new PendingLinks({ maxPendingLinks: 5, maxPendingLinksTotal: 10 });
    expect(links.highestProposed('bob', 0)).toBe(0);
    links.add(link('bob', 'a', 4, 100), 0);
    links.add(link('bob', 'b', 6, 100), 0);
    expect(links.highestProposed('bob', 0)).toBe(6);
  });
});
