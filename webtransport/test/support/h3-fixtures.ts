/**
 * Shared fixtures of the HTTP/3 unit tests: a WebTransport CONNECT request, a
 * peer control stream, and byte-at-a-time feeding.
 */
import { H3Connection } from '../../src/h3/connection.ts';
import type { H3Event } from '../../src/h3/events.ts';
import { concatWire, encodeSettings, SETTING, UNI_STREAM } from '../../src/h3/frames.ts';
import type { Role } from '../../src/h3/stream-ids.ts';
import type { FieldLine } from '../../src/qpack/field-section.ts';
import { webTransportLimits } from '../../src/webtransport/limits.ts';

export const limits = webTransportLimits({ maxFrameBytes: 4096, maxCapsuleBytes: 2048 });

/** The peer's control stream ids: a client's first uni stream is 2, a server's is 3. */
export const CLIENT_CONTROL = 2;
export const SERVER_CONTROL = 3;

export const connectRequest: FieldLine[] = [
  { name: ':method', value: 'CONNECT' },
  { name: ':protocol', value: 'webtransport' },
  { name: ':scheme', value: 'https' },
  { name: ':authority', value: 'localhost' },
  { name: ':path', value: '/echo' },
  { name: 'origin', value: 'https://pulse.test' },
];

export function connection(role: Role = 'server'): H3Connection {
  return new H3Connection({ role, limits });
}

/** A control stream's first bytes: the stream type, then SETTINGS. */
export const controlStream = (settings = new Map([[SETTING.ENABLE_WEBTRANSPORT, 1]])): Uint8Array =>
  concatWire([UNI_STREAM.CONTROL, encodeSettings(settings)]);

/** Feeds `bytes` one byte per call, collecting events. */
export function feedByteByByte(h3: H3Connection, streamId: number, bytes: Uint8Array, fin = false): H3Event[] {
  const events: H3Event[] = [];
  for (let i = 0; i < bytes.length; i++) {
    events.push(...h3.receiveStreamData(streamId, bytes.subarray(i, i + 1), fin && i === bytes.length - 1));
  }
  return events;
}
