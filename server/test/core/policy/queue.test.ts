import { describe, expect, it } from 'vitest';
import { QueueAdmission, type QueueCaps, type SendRequest } from '../../../src/core/policy/queue.ts';
import type { QueuedBytes, StorageUsage } from '../../../src/core/store.ts';

const request = (to: string, deviceIds: number[], bytes = 1, from = 'alice'): SendRequest => ({
  from: { account: from, deviceId: 1 },
  to,
  envelopes: deviceIds.map((deviceId) => ({ deviceId, payload: new Uint8Array(bytes).fill(deviceId) })),
  now: 5,
  expiresAt: 10,
});

/** Caps with only the per-device one binding, unless a test says otherwise. */
const caps = (overrides: Partial<QueueCaps> = {}): QueueCaps => ({
  perDevice: 3,
  senderBytes: 1_000_000,
  accountBytes: 1_000_000,
  storageMaxBytes: 1_000_000,
  storageMinFreeBytes: 0,
  ...overrides,
});

describe('queue admission (no store)', () => {
  const reads = (
    queued: Record<string, number>,
    bytes: Record<string, QueuedBytes> = {},
    usage: StorageUsage = { usedBytes: 0, freeBytes: 1_000_000 },
  ) => ({
    reads: 0,
    usage,
    queuedBytes: (account: string) => bytes[account] ?? { sent: 0, received: 0 },
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
    const admission = new QueueAdmission(view, caps());
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
    const admission = new QueueAdmission(reads({ 'bob/1': 0, 'bob/2': 2 }), caps());
    expect(() => admission.admit(request('bob', [1]))).toThrow(expect.objectContaining({ code: 'DEVICES_MISMATCH' }));
    expect(admission.admit(request('bob', [1, 2])).queuedAtMost).toEqual([0, 2]);
    // Device 2 is full now; the refusal leaves device 1's count where it was.
    expect(() => admission.admit(request('bob', [1, 2]))).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }));
    expect(admission.admit.bind(admission, request('carol', [1]))).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });

  it("refuses a sender over its byte quota (QUOTA_EXCEEDED), counting the batch's earlier sends", () => {
    const bytes = { alice: { sent: 900, received: 0 } };
    const admission = new QueueAdmission(reads({}, bytes), caps({ senderBytes: 1_000 }));
    admission.admit(request('bob', [1, 2], 40));
    expect(() => admission.admit(request('bob', [1, 2], 40))).toThrow(
      expect.objectContaining({ code: 'QUOTA_EXCEEDED' }),
    );
    // Another sender is not charged for alice's bytes.
    expect(admission.admit(request('bob', [1, 2], 40, 'carol')).queuedAtMost).toEqual([1, 1]);
  });

  it('refuses a recipient account over its byte quota (QUEUE_FULL), whoever sends', () => {
    const bytes = { bob: { sent: 0, received: 950 } };
    const admission = new QueueAdmission(reads({}, bytes), caps({ accountBytes: 1_000 }));
    admission.admit(request('bob', [1, 2], 20, 'carol'));
    expect(() => admission.admit(request('bob', [1, 2], 10, 'dave'))).toThrow(
      expect.objectContaining({ code: 'QUEUE_FULL' }),
    );
  });

  it('refuses every send above the disk high-water mark (STORAGE_FULL): size, or free space', () => {
    const full = new QueueAdmission(
      reads({}, {}, { usedBytes: 990, freeBytes: 1e9 }),
      caps({ storageMaxBytes: 1_000 }),
    );
    full.admit(request('bob', [1, 2], 5));
    expect(() => full.admit(request('bob', [1, 2], 1))).toThrow(expect.objectContaining({ code: 'STORAGE_FULL' }));
    const low = new QueueAdmission(reads({}, {}, { usedBytes: 0, freeBytes: 500 }), caps({ storageMinFreeBytes: 499 }));
    expect(() => low.admit(request('bob', [1, 2], 1))).toThrow(expect.objectContaining({ code: 'STORAGE_FULL' }));
  });
});
