import { FRAME_TYPES, type Frame, type FrameOf } from '@pulse/proto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { answerTypeOf, type RequestFrame, RequestTable, type RequestType } from '../src/connection/requests.ts';
import { PulseError } from '../src/errors.ts';

const REQUEST_TYPES: readonly RequestType[] = [
  'register',
  'auth',
  'auth_token',
  'device_list',
  'device_list_update',
  'link_request',
  'link_list',
  'prekeys_upload',
  'bundle_fetch',
  'send',
  'sync',
  'subscribe',
  'unsubscribe',
  'publish',
];

/** A table whose sent frames are kept, in order. */
function table(limits = { requestTimeoutMs: 15_000, maxPendingRequests: 512 }) {
  const sent: Frame[] = [];
  const requests = new RequestTable(limits);
  const issue = <T extends RequestType>(frame: RequestFrame<T>) =>
    requests.issue(frame, (withId) => void sent.push(withId));
  return { requests, sent, issue };
}

function idOf(frame: Frame | undefined): number {
  if (frame === undefined || !('id' in frame) || frame.id === undefined) throw new Error('no id');
  return frame.id;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the request → answer table', () => {
  it('names a real frame type as the answer of every request', () => {
    for (const type of REQUEST_TYPES) {
      expect(FRAME_TYPES).toContain(type);
      expect(FRAME_TYPES).toContain(answerTypeOf(type));
    }
    expect(answerTypeOf('auth')).toBe('auth_ok');
    expect(answerTypeOf('send')).toBe('sent');
  });
});

describe('RequestTable', () => {
  it('gives each request its own id and resolves each with the answer carrying that id, in any order', async () => {
    const { requests, sent, issue } = table();
    const sync = issue({ type: 'sync' });
    const list = issue({ type: 'device_list' });
    const [syncId, listId] = [idOf(sent[0]), idOf(sent[1])];
    expect(syncId).not.toBe(listId);
    expect(sent[0]).toEqual({ type: 'sync', id: syncId });
    const devices: FrameOf<'devices'> = {
      type: 'devices',
      id: listId,
      account: 'alice',
      accountKey: new Uint8Array(33),
      deviceList: { version: 1, devices: [], signature: new Uint8Array(64) },
    };
    expect(requests.settle(devices)).toBe(true);
    expect(requests.settle({ type: 'sync_done', id: syncId, delivered: 3 })).toBe(true);
    await expect(list).resolves.toEqual(devices);
    await expect(sync).resolves.toEqual({ type: 'sync_done', id: syncId, delivered: 3 });
    expect(requests.size).toBe(0);
  });

  it('rejects on an error answer with its code and retry hint, and on an answer of the wrong type', async () => {
    const { requests, sent, issue } = table();
    const limited = issue({ type: 'bundle_fetch', account: 'bob' });
    const confused = issue({ type: 'sync' });
    requests.settle({ type: 'error', id: idOf(sent[0]), code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 40 });
    requests.settle({ type: 'ok', id: idOf(sent[1]) });
    await expect(limited).rejects.toSatisfy(
      (e) => PulseError.is(e, 'RATE_LIMITED') && e.retryAfterMs === 40 && e.message === 'slow down',
    );
    await expect(confused).rejects.toSatisfy((e) => PulseError.is(e, 'UNEXPECTED_ANSWER'));
  });

  it('leaves pushes, id-less errors and answers nobody waits for to the caller', () => {
    const { requests, sent, issue } = table();
    void issue({ type: 'sync' });
    const id = idOf(sent[0]);
    expect(requests.settle({ type: 'prekeys_low', oneTimePreKeys: 1, pqOneTimePreKeys: 1 })).toBe(false);
    expect(requests.settle({ type: 'error', code: 'RATE_LIMITED', message: 'notice' })).toBe(false);
    expect(requests.settle({ type: 'ok', id: id + 1 })).toBe(false);
    expect(requests.size).toBe(1);
  });

  it('refuses more than maxPendingRequests in flight, and frees a slot when a request settles', async () => {
    const { requests, sent, issue } = table({ requestTimeoutMs: 15_000, maxPendingRequests: 2 });
    void issue({ type: 'sync' });
    void issue({ type: 'sync' });
    await expect(issue({ type: 'sync' })).rejects.toSatisfy((e) => PulseError.is(e, 'TOO_MANY_REQUESTS'));
    expect(sent).toHaveLength(2);
    requests.settle({ type: 'sync_done', id: idOf(sent[0]), delivered: 0 });
    const third = issue({ type: 'sync' });
    expect(sent).toHaveLength(3);
    requests.settle({ type: 'sync_done', id: idOf(sent[2]), delivered: 0 });
    await expect(third).resolves.toMatchObject({ type: 'sync_done' });
  });

  it('fails everything in flight at once when the transport is gone', async () => {
    const { requests, issue } = table();
    const pending = [issue({ type: 'sync' }), issue({ type: 'device_list' })];
    const gone = new PulseError('CONNECTION_CLOSED', 'transport closed');
    requests.failAll(gone);
    expect(requests.size).toBe(0);
    for (const request of pending) await expect(request).rejects.toBe(gone);
  });

  it('rejects a request its transmit could not send, without keeping it in flight', async () => {
    const requests = new RequestTable({ requestTimeoutMs: 15_000, maxPendingRequests: 512 });
    const broken = new Error('frame too large');
    const request = requests.issue({ type: 'sync' }, () => {
      throw broken;
    });
    await expect(request).rejects.toBe(broken);
    expect(requests.size).toBe(0);
  });

  it('times out a request after requestTimeoutMs; its late answer is then ignored', async () => {
    vi.useFakeTimers();
    const { requests, sent, issue } = table({ requestTimeoutMs: 1_000, maxPendingRequests: 512 });
    const request = issue({ type: 'sync' });
    const outcome = expect(request).rejects.toSatisfy((e) => PulseError.is(e, 'TIMEOUT'));
    vi.advanceTimersByTime(999);
    expect(requests.size).toBe(1);
    vi.advanceTimersByTime(1);
    await outcome;
    expect(requests.size).toBe(0);
    expect(requests.settle({ type: 'sync_done', id: idOf(sent[0]), delivered: 0 })).toBe(false);
  });
});
