import { describe, expect, it } from 'vitest';
import { QueueAdmission, type SendRequest } from '../../../src/core/policy/queue.ts';

const request = (to: string, deviceIds: number[]): SendRequest => ({
  from: { account: 'alice', deviceId: 1 },
  to,
  envelopes: deviceIds.map((deviceId) => ({ deviceId, payload: new Uint8Array([deviceId]) })),
  now: 5,
  expiresAt: 10,
});

describe('queue admission (no store)', () => {
  const reads = (queued: Record<string, number>) => ({
    reads: 0,
    deviceIds(account: string) {
      this.reads++;
      return account === 'bob' ? [1, 2] : [];
    },
    queueLength(account: string, deviceId: number) {
      this.reads++;
      return queued[`${account}/${deviceId}`] ?? 0;
    },
  });

  it('admits up to the cap per device, counting earlier admissions of the batch, and says what it saw', () => {
    const view = reads({ 'bob/1': 1, 'bob/2': 0 });
    const admission = new QueueAdmission(view, 3);
    const first = admission.admit(request('bob', [1, 2]));
    expect(first).toMatchObject({ to: 'bob', serverTime: 5, expiresAt: 10, deviceIds: [1, 2], queuedAtMost: [1, 0] });
    expect(admission.admit(request('bob', [2, 1])).queuedAtMost).toEqual([1, 2]);
    expect(() => admission.admit(request('bob', [1, 2]))).toThrow(
      expect.objectContaining({ code: 'QUEUE_FULL', message: 'device 1 of bob already holds 3 envelopes' }),
    );
    // Each account and device is read once per batch.
    expect(view.reads).toBe(3);
  });

  it('reserves nothing for a refused send', () => {
    const admission = new QueueAdmission(reads({ 'bob/1': 0, 'bob/2': 2 }), 3);
    expect(() => admission.admit(request('bob', [1]))).toThrow(expect.objectContaining({ code: 'DEVICES_MISMATCH' }));
    expect(admission.admit(request('bob', [1, 2])).queuedAtMost).toEqual([0, 2]);
    // Device 2 is full now; the refusal leaves device 1's count where it was.
    expect(() => admission.admit(request('bob', [1, 2]))).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }));
    expect(admission.admit.bind(admission, request('carol', [1]))).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });
});
