import type { ChannelEntry } from '../../../core/ports/channel-log.ts';

/** A publication as a stream message carries it: its channel epoch and offset, then the record. */
export interface StreamedEntry extends ChannelEntry {
  readonly epoch: string;
}

const VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The body of a channel message in the stream (version 1):
 *
 *   version u8 | len(epoch) u8 | epoch | offset f64 | serverTime f64 | deviceId u32 | len(account) u16 | account | payload
 *
 * Big-endian; offsets and times are integers below 2^53. The payload is the
 * client's bytes, untouched.
 */
export function encodeEntry(entry: StreamedEntry): Uint8Array {
  const epoch = encoder.encode(entry.epoch);
  const account = encoder.encode(entry.account);
  const head = 1 + 1 + epoch.length + 8 + 8 + 4 + 2 + account.length;
  const out = new Uint8Array(head + entry.payload.length);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = VERSION;
  out[at++] = epoch.length;
  out.set(epoch, at);
  at += epoch.length;
  view.setFloat64(at, entry.offset);
  at += 8;
  view.setFloat64(at, entry.serverTime);
  at += 8;
  view.setUint32(at, entry.deviceId);
  at += 4;
  view.setUint16(at, account.length);
  at += 2;
  out.set(account, at);
  at += account.length;
  out.set(entry.payload, at);
  return out;
}

/** The entry in a message body, or undefined when it is not one (another version, cut short). */
export function decodeEntry(body: Uint8Array): StreamedEntry | undefined {
  try {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    if (body[0] !== VERSION) return undefined;
    let at = 1;
    const epochLength = body[at++]!;
    const epoch = decoder.decode(body.subarray(at, at + epochLength));
    at += epochLength;
    const offset = view.getFloat64(at);
    at += 8;
    const serverTime = view.getFloat64(at);
    at += 8;
    const deviceId = view.getUint32(at);
    at += 4;
    const accountLength = view.getUint16(at);
    at += 2;
    if (at + accountLength > body.length) return undefined;
    const account = decoder.decode(body.subarray(at, at + accountLength));
    at += accountLength;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(serverTime)) return undefined;
    return { epoch, offset, serverTime, deviceId, account, payload: body.slice(at) };
  } catch {
    return undefined;
  }
}
