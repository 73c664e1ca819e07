/**
 * What the store's rows look like and how they become the Store port's records,
 * and the reads both connections prepare (the main thread's read connection,
 * sqlite-store.ts, and the writer thread's, writer/store-writes.ts, which reads
 * inside its transactions): one definition for both.
 */
import type { DeviceRecord } from '../../core/store.ts';

export interface DeviceRow {
  account: string;
  device_id: number;
  name: string;
  identity_key: Uint8Array;
  created_at: number;
  last_seen_at: number;
}

/** A plain Uint8Array over a Buffer's bytes (no copy): records carry no Buffer. */
export const plainBytes = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export const toDevice = (r: DeviceRow): DeviceRecord => ({
  account: r.account,
  deviceId: r.device_id,
  name: r.name,
  identityKey: plainBytes(r.identity_key),
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
});

/** Reads prepared on both connections. */
export const SHARED_READS = {
  getDevice: 'SELECT * FROM devices WHERE account = ? AND device_id = ?',
  listDevices: 'SELECT * FROM devices WHERE account = ? ORDER BY device_id',
  oneTimeIds: 'SELECT key_id FROM one_time_prekeys WHERE account = ? AND device_id = ? AND kind = ? ORDER BY key_id',
  countOneTime: 'SELECT count(*) FROM one_time_prekeys WHERE account = ? AND device_id = ? AND kind = ?',
  queueLength: 'SELECT n FROM queue_sizes WHERE account = ? AND device_id = ?',
  nextDeviceId: 'SELECT next_device_id FROM accounts WHERE name = ?',
} as const;
