import { describe, expect, it } from 'vitest';
import {
  AdmissionDeferred,
  QueueAdmission,
  type QueueCaps,
  type QueueReads,
  Reservation,
  type SendRequest,
} from '../../../src/core/policy/queue.ts';

/**
 * Admission while earlier batches are still being written (issue 15): what
 * they add counts against every cap, and a send only they leave no room for
 * waits (AdmissionDeferred) instead of being refused on counts that may be
 * counted twice.
 */

/** A send of `bytes` to the one device of `to`. */
const request = (bytes: number, to = 'bob', sealed = false): SendRequest => ({
  from: { account: 'alice', deviceId: 1 },
  sealed,
  to,
  envelopes: [{ deviceId: 1, payload: new Uint8Array(bytes) }],
  now: 5,
  expiresAt: 10,
});

const caps = (overrides: Partial<QueueCaps> = {}): QueueCaps => ({
  perDevice: 100,
  senderBytes: 1_000,
  accountBytes: 1_000,
  storageMaxBytes: 1_000_000,
  storageMinFreeBytes: 0,
  ...overrides,
});

/** Reads of an empty store where bob and carol have one device each. */
const empty: QueueReads = {
  deviceIds: (account) => (account === 'bob' || account === 'carol' ? [1] : []),
  queueLength: () => 0,
  queuedBytes: () => ({ sent: 0, received: 0 }),
  usage: { usedBytes: 0, freeBytes: 1_000_000 },
};

/** What a batch in flight adds: `sends` admitted on their own. */
function inFlight(...sends: SendRequest[]): Reservation {
  const admission = new QueueAdmission(empty, caps({ perDevice: 1_000_000, senderBytes: 1e9, accountBytes: 1e9 }));
  for (const send of sends) admission.admit(send);
  return admission.reservation;
}

describe('queue admission with batches in flight', () => {
  it('counts what they add in each queue precondition, so the write does not conflict with them', () => {
    const batches = [inFlight(request(1), request(1)), inFlight(request(1, 'carol'))];
    const admission = new QueueAdmission(empty, caps(), { batches, ordered: true });
    expect(admission.admit(request(1)).queuedAtMost).toEqual([2]);
    expect(admission.admit(request(1, 'carol')).queuedAtMost).toEqual([1]);
    expect(admission.admit(request(1)).queuedAtMost).toEqual([3]);
  });

  it('defers, not refuses, a send that fits the reads but not with them; refuses one that fits neither', () => {
    const batches = [inFlight(request(1), request(1))];
    const admission = new QueueAdmission(empty, caps({ perDevice: 3 }), { batches, ordered: true });
    admission.admit(request(1));
    expect(() => admission.admit(request(1))).toThrow(AdmissionDeferred);
    const full = { ...empty, queueLength: () => 3 };
    expect(() =>
      new QueueAdmission(full, caps({ perDevice: 3 }), { batches, ordered: true }).admit(request(1)),
    ).toThrow(expect.objectContaining({ code: 'QUEUE_FULL', limit: 'queue_per_device' }));
  });

  it('counts them against the byte quotas and the disk mark the same way', () => {
    const batches = [inFlight(request(600))];
    const defer = (c: Partial<QueueCaps>, send = request(500)) =>
      expect(() => new QueueAdmission(empty, caps(c), { batches, ordered: true }).admit(send)).toThrow(
        AdmissionDeferred,
      );
    defer({ senderBytes: 1_000, accountBytes: 1e9 });
    defer({ senderBytes: 1e9, accountBytes: 1_000 });
    defer({ senderBytes: 1e9, accountBytes: 1e9, storageMaxBytes: 1_000 });
    // A sealed send counts against the recipient only: the sender's bytes in flight do not hold it back.
    const sealed = new QueueAdmission(empty, caps({ senderBytes: 1_000, accountBytes: 1e9 }), {
      batches,
      ordered: true,
    });
    expect(sealed.admit(request(500, 'bob', true)).from).toBeUndefined();
    // Over the quota on the reads alone: refused at once, whatever is in flight.
    const heavy = { ...empty, queuedBytes: () => ({ sent: 900, received: 0 }) };
    expect(() => new QueueAdmission(heavy, caps(), { batches, ordered: true }).admit(request(500))).toThrow(
      expect.objectContaining({ code: 'QUOTA_EXCEEDED' }),
    );
  });

  it('reserves nothing for a deferred send, and a batch reserves what it admitted', () => {
    const batches = [inFlight(request(1), request(1))];
    const admission = new QueueAdmission(empty, caps({ perDevice: 3 }), { batches, ordered: true });
    admission.admit(request(10));
    expect(() => admission.admit(request(20))).toThrow(AdmissionDeferred);
    admission.admit(request(30, 'carol'));
    const { reservation } = admission;
    expect([...reservation.queued.values()]).toEqual([1, 1]);
    expect(reservation.sentBytes.get('alice')).toBe(40);
    expect(reservation.receivedBytes.get('bob')).toBe(10);
    expect(reservation.receivedBytes.get('carol')).toBe(30);
    expect(reservation.bytes).toBe(40);
  });

  it('defers a send to a device in flight when the store does not commit appends in call order', () => {
    const batches = [inFlight(request(1))];
    const admission = new QueueAdmission(empty, caps(), { batches, ordered: false });
    expect(admission.admit(request(1, 'carol')).queuedAtMost).toEqual([0]);
    expect(() => admission.admit(request(1))).toThrow(AdmissionDeferred);
  });

  it('behaves as before with nothing in flight', () => {
    const reservation = new Reservation();
    const admission = new QueueAdmission(empty, caps({ perDevice: 1 }), { batches: [reservation], ordered: false });
    admission.admit(request(1));
    expect(() => admission.admit(request(1))).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }));
  });
});
