import type { FrameOf } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import { PendingLinks, type WaitingDevice } from '../../src/core/links.ts';
import { type LinkRequest, MemoryLinkDirectory } from '../../src/core/ports/link-directory.ts';

const ignore = () => {};

function device(
  account: string,
  options: { expiresAt?: number; waiting?: () => boolean; approved?: FrameOf<'link_approved'>[] } = {},
): (linkId: string) => WaitingDevice {
  const key = new Uint8Array(33);
  const prekey = { keyId: 1, publicKey: key, signature: new Uint8Array(64) };
  return (linkId) => ({
    account,
    make: (highest): LinkRequest => ({
      linkId,
      deviceId: Math.max(2, highest + 1),
      deviceName: 'x',
      identityKey: key,
      signedPreKey: prekey,
      pqPreKey: prekey,
      mac: new Uint8Array(32),
      requestedAt: 0,
      expiresAt: options.expiresAt ?? 100,
    }),
    approve: (frame) => options.approved?.push(frame),
    waiting: options.waiting ?? (() => true),
  });
}

async function code(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('pending links (no store)', () => {
  it('bounds the links per account and per node (RATE_LIMITED)', async () => {
    const links = new PendingLinks({ maxPendingLinks: 2, maxPendingLinksTotal: 3 }, new MemoryLinkDirectory(), ignore);
    const add = (account: string, linkId: string) => code(() => links.add(linkId, device(account)(linkId), 0));
    expect(await add('bob', 'a')).toBe('ok');
    expect(await add('bob', 'b')).toBe('ok');
    expect(await add('bob', 'c')).toBe('RATE_LIMITED');
    expect(await add('carol', 'd')).toBe('ok');
    expect(await add('dave', 'e')).toBe('RATE_LIMITED');
    expect(links.size).toBe(3);
  });

  it('holds the per-account bound across nodes sharing one directory', async () => {
    const directory = new MemoryLinkDirectory();
    const limits = { maxPendingLinks: 2, maxPendingLinksTotal: 10 };
    const nodeA = new PendingLinks(limits, directory, ignore);
    const nodeB = new PendingLinks(limits, directory, ignore);
    expect(await code(() => nodeA.add('a', device('bob')('a'), 0))).toBe('ok');
    expect(await code(() => nodeB.add('b', device('bob')('b'), 0))).toBe('ok');
    expect(await code(() => nodeB.add('c', device('bob')('c'), 0))).toBe('RATE_LIMITED');
    expect(nodeB.size).toBe(1);
  });

  it('forgets a link once it expired or its connection closed, freeing its place', async () => {
    let open = true;
    const links = new PendingLinks({ maxPendingLinks: 1, maxPendingLinksTotal: 10 }, new MemoryLinkDirectory(), ignore);
    await links.add('a', device('bob', { waiting: () => open })('a'), 0);
    expect((await links.get('bob', 'a', 50))?.deviceId).toBe(2);
    expect(await links.get('carol', 'a', 50)).toBeUndefined();
    open = false;
    expect(await links.list('bob', 50)).toEqual([]);
    expect(links.size).toBe(0);
    await links.add('b', device('bob')('b'), 50);
    expect(await links.get('bob', 'b', 100)).toBeUndefined();
    expect(await code(() => links.add('c', device('bob', { expiresAt: 200 })('c'), 100))).toBe('ok');
  });

  it('proposes a device id above every pending link of the account, so two links never share one', async () => {
    const links = new PendingLinks({ maxPendingLinks: 5, maxPendingLinksTotal: 10 }, new MemoryLinkDirectory(), ignore);
    expect((await links.add('a', device('bob')('a'), 0)).deviceId).toBe(2);
    expect((await links.add('b', device('bob')('b'), 0)).deviceId).toBe(3);
    expect((await links.add('c', device('carol')('c'), 0)).deviceId).toBe(2);
  });

  it('delivers an approval made on another node to the waiting device, once, and ends the link', async () => {
    const directory = new MemoryLinkDirectory();
    const limits = { maxPendingLinks: 2, maxPendingLinksTotal: 10 };
    const approved: FrameOf<'link_approved'>[] = [];
    const waitingNode = new PendingLinks(limits, directory, ignore);
    const approvingNode = new PendingLinks(limits, directory, ignore);
    await waitingNode.add('a', device('bob', { approved })('a'), 0);
    const frame: FrameOf<'link_approved'> = {
      type: 'link_approved',
      linkId: 'a',
      account: 'bob',
      deviceId: 2,
      provisioning: new Uint8Array(1),
    };
    await approvingNode.approved(frame);
    await approvingNode.approved(frame);
    expect(approved).toEqual([frame]);
    expect(await approvingNode.list('bob', 0)).toEqual([]);
    expect(waitingNode.size).toBe(0);
  });
});
