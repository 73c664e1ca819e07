import type { ChannelLogBudget, ChannelPosition, ChannelRecord } from '../../../core/ports/channel-log.ts';
import {
  type DeviceListWrite,
  type DeviceRecord,
  type EnvelopeWrite,
  type ExpiredEnvelope,
  type NewDevice,
  type OneTimePreKeyIds,
  type PreKeyCounts,
  type PreKeyUpload,
  StoreConflict,
  StoreUnavailable,
  type TakenPreKeys,
} from '../../../core/store.ts';

/**
 * What crosses between the main thread and the SQLite writer thread
 * (sqlite-writer.ts ⇄ worker.ts). Arguments and results are structured clones
 * (payloads are copied once each way); the requests of one event-loop turn
 * travel in ONE message, their replies in one message back.
 */

/** One `deliver_ack`: envelope ids of one device. */
export interface DeviceAck {
  readonly account: string;
  readonly deviceId: number;
  readonly envelopeIds: readonly string[];
}

/** The writes the writer thread carries out, each with its precondition checked inside its transaction. */
export interface WriteOps {
  createAccount(account: string, deviceName: string, identityKey: Uint8Array, now: number): DeviceRecord;
  addDevice(account: string, device: NewDevice, expectedDeviceIds: readonly number[]): DeviceRecord;
  removeDevice(account: string, deviceId: number, expectedDeviceIds: readonly number[]): boolean;
  touchDevice(account: string, deviceId: number, now: number): void;
  writeDeviceList(account: string, write: DeviceListWrite): void;
  storePreKeys(account: string, deviceId: number, upload: PreKeyUpload, expected: OneTimePreKeyIds): PreKeyCounts;
  takePreKeys(account: string): TakenPreKeys[];
  /** Sealed sender: registers (or replaces) the account's delivery token verifier; nothing for an unknown account. */
  setDeliveryTokenVerifier(account: string, verifier: Uint8Array): void;
  appendEnvelopes(writes: readonly EnvelopeWrite[]): string[][];
  ack(ack: DeviceAck): number;
  /** Deletes up to `limit` expired envelopes (one short transaction). */
  purgeExpired(now: number, limit: number): ExpiredEnvelope[];
  /** Checkpoints the WAL and truncates it (after a purge: what it deleted leaves the WAL too). */
  checkpoint(): void;
  /** Notes the channel log opened under this boot; renews every epoch after an unclean stop on another boot. */
  openChannelLog(bootId: string): void;
  /** Notes the channel log closed cleanly. */
  closeChannelLog(): void;
  appendChannel(budget: ChannelLogBudget, channel: string, record: ChannelRecord): ChannelPosition;
  /** The channel's position, its head made (with a fresh epoch) if missing. */
  channelHead(budget: ChannelLogBudget, channel: string): ChannelPosition;
  /** A channel this process follows (its head is not evicted meanwhile), or no longer follows. */
  followChannel(channel: string, followed: boolean): void;
}

export type WriteOp = keyof WriteOps;

/**
 * How each write commits. `durable`: synchronous=FULL, the WAL is fsynced
 * before the reply (an acknowledged envelope, account, device, prekey take
 * survives a power cut). `light`: synchronous=NORMAL, no fsync of its own: it
 * survives a killed process, and a power cut may undo it — an ack then only
 * means the envelope is delivered again (clients deduplicate by envelopeId), a
 * touch an older last-seen time, a purge is done again at the next purge, a
 * channel append is covered by the channel log's boot check
 * (sqlite-channel-log.ts). In WAL mode the next `durable` commit fsyncs the WAL
 * and with it every light commit before it. `alone`: outside any transaction.
 * `memory`: no SQL at all.
 */
export const WRITE_MODES: { readonly [K in WriteOp]: 'durable' | 'light' | 'alone' | 'memory' } = {
  createAccount: 'durable',
  addDevice: 'durable',
  removeDevice: 'durable',
  touchDevice: 'light',
  writeDeviceList: 'durable',
  storePreKeys: 'durable',
  takePreKeys: 'durable',
  setDeliveryTokenVerifier: 'durable',
  appendEnvelopes: 'durable',
  ack: 'light',
  purgeExpired: 'light',
  checkpoint: 'alone',
  openChannelLog: 'durable',
  closeChannelLog: 'durable',
  appendChannel: 'light',
  channelHead: 'light',
  followChannel: 'memory',
};

export interface WriteRequest {
  readonly id: number;
  readonly op: WriteOp;
  readonly args: readonly unknown[];
}

/** An error as it crosses the thread boundary. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string | undefined;
}

export type WriteReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

export type ToWriter =
  | { readonly kind: 'write'; readonly requests: readonly WriteRequest[] }
  /** Finish what came before, close the connection, answer `closed`, end the thread. */
  | { readonly kind: 'close' };

export type FromWriter =
  | { readonly kind: 'ready' }
  /** The file could not be opened or brought up to date; the thread ends. */
  | { readonly kind: 'failed'; readonly error: WireError }
  | { readonly kind: 'replies'; readonly replies: readonly WriteReply[] }
  | { readonly kind: 'closed' };

export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, code: typeof code === 'string' ? code : undefined };
  }
  return { name: 'Error', message: String(error) };
}

/** The error again, on the main thread: StoreConflict and StoreUnavailable keep their class, others name and code. */
export function fromWireError(wire: WireError): Error {
  if (wire.name === 'StoreConflict') return new StoreConflict(wire.message);
  if (wire.name === 'StoreUnavailable') return new StoreUnavailable(wire.message);
  const error = new Error(wire.message) as Error & { code?: string };
  error.name = wire.name;
  if (wire.code !== undefined) error.code = wire.code;
  return error;
}
