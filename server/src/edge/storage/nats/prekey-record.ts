import type { PreKeyRecord, SignedPreKeyRecord } from '../../../core/store.ts';

/** One device's prekeys, as one KV value. */
export interface DevicePreKeys {
  signed: SignedPreKeyRecord | undefined;
  lastResort: SignedPreKeyRecord | undefined;
  readonly ec: Map<number, PreKeyRecord>;
  readonly pq: Map<number, SignedPreKeyRecord>;
}

export const emptyPreKeys = (): DevicePreKeys => ({
  signed: undefined,
  lastResort: undefined,
  ec: new Map(),
  pq: new Map(),
});

const VERSION = 1;

/**
 * A compact binary form (not JSON): a device may hold `max_prekeys_per_device`
 * PQ one-time prekeys of ~1.6 KB each, and the whole record must fit in one
 * NATS message (max_payload, 1 MB by default); base64 in JSON would not.
 * Layout: version, signed?, last-resort?, EC keys, PQ keys; integers u32 BE,
 * byte strings u32 length + bytes.
 */
export function encodePreKeys(keys: DevicePreKeys): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(VERSION)];
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    parts.push(b);
  };
  const bytes = (b: Uint8Array) => {
    u32(b.length);
    parts.push(b);
  };
  const signed = (key: SignedPreKeyRecord | undefined) => {
    parts.push(Uint8Array.of(key === undefined ? 0 : 1));
    if (key === undefined) return;
    u32(key.keyId);
    bytes(key.publicKey);
    bytes(key.signature);
  };
  signed(keys.signed);
  signed(keys.lastResort);
  u32(keys.ec.size);
  for (const key of keys.ec.values()) {
    u32(key.keyId);
    bytes(key.publicKey);
  }
  u32(keys.pq.size);
  for (const key of keys.pq.values()) {
    u32(key.keyId);
    bytes(key.publicKey);
    bytes(key.signature);
  }
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function decodePreKeys(data: Uint8Array): DevicePreKeys {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  const u8 = () => view.getUint8(at++);
  const u32 = () => {
    const n = view.getUint32(at);
    at += 4;
    return n;
  };
  const bytes = () => {
    const length = u32();
    if (at + length > data.length) throw new Error('truncated prekey record');
    const b = data.slice(at, at + length);
    at += length;
    return b;
  };
  const signed = (): SignedPreKeyRecord | undefined =>
    u8() === 0 ? undefined : { keyId: u32(), publicKey: bytes(), signature: bytes() };
  if (u8() !== VERSION) throw new Error('unknown prekey record version');
  const keys: DevicePreKeys = { signed: signed(), lastResort: signed(), ec: new Map(), pq: new Map() };
  for (let n = u32(); n > 0; n--) {
    const keyId = u32();
    keys.ec.set(keyId, { keyId, publicKey: bytes() });
  }
  for (let n = u32(); n > 0; n--) {
    const key = { keyId: u32(), publicKey: bytes(), signature: bytes() };
    keys.pq.set(key.keyId, key);
  }
  return keys;
}
