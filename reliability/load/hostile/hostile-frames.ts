import { randomBytes, randomInt } from 'node:crypto';
import type { Frame } from '@pulse/proto';
import { TEST_CODEC } from '@pulse/testing/protocol';

/**
 * Bytes that are not (quite) Pulse frames (PROTOCOL.md "Decoding and
 * validation"): random bytes, valid frames mutated, and MessagePack whose
 * lengths lie. Each is what a hostile or broken peer sends in one frame slot.
 */

/** Valid frames of many types, encoded: the seeds of mutation. */
function seeds(): Uint8Array[] {
  const frames: Frame[] = [
    { type: 'hello', versions: [1, 2], client: 'hostile' },
    { type: 'ping', nonce: 7 },
    { type: 'auth', id: 1, account: 'victim', deviceId: 1, signature: new Uint8Array(64) },
    { type: 'send', id: 2, to: 'victim', envelopes: [{ deviceId: 1, payload: randomBytes(200) }] },
    { type: 'subscribe', id: 3, channel: 'public:x', since: { epoch: 'e', offset: 3 }, presence: true },
    { type: 'publish', id: 4, channel: 'public:x', payload: randomBytes(100) },
    { type: 'deliver_ack', envelopeIds: ['1', '2', '3'] },
    { type: 'bundle_fetch', id: 5, account: 'victim' },
    { type: 'sync', id: 6 },
    { type: 'close', code: 'NORMAL', reason: 'bye' },
  ] as Frame[];
  const encoded: Uint8Array[] = [];
  for (const frame of frames) {
    try {
      encoded.push(TEST_CODEC.encode(frame));
    } catch {
      // A frame this protocol revision no longer has: mutate the others.
    }
  }
  return encoded;
}

const SEEDS = seeds();

export function randomFrame(maxBytes = 4096): Uint8Array {
  return new Uint8Array(randomBytes(randomInt(0, maxBytes)));
}

/** A valid frame with a few bytes flipped, cut short, extended or repeated. */
export function mutatedFrame(): Uint8Array {
  const seed = SEEDS[randomInt(SEEDS.length)] as Uint8Array;
  const bytes = new Uint8Array(seed);
  switch (randomInt(4)) {
    case 0:
      for (let i = randomInt(1, 4); i > 0; i--) bytes[randomInt(bytes.length)] = randomInt(256);
      return bytes;
    case 1:
      return bytes.subarray(0, randomInt(bytes.length));
    case 2:
      return Uint8Array.from([...bytes, ...randomBytes(randomInt(1, 64))]);
    default: {
      const at = randomInt(bytes.length);
      return Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at - 1 < 0 ? 0 : at - 1)]);
    }
  }
}

const TYPE_KEY = [0xa4, 0x74, 0x79, 0x70, 0x65]; // "type"

/** MessagePack whose headers announce far more than follows (PROTOCOL.md: a length past the end is PROTO_MALFORMED). */
export function lyingFrame(): Uint8Array {
  const lies: number[][] = [
    [0x81, ...TYPE_KEY, 0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2, 3], // bin32 of 4 GiB
    [0x81, ...TYPE_KEY, 0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61], // str32 of 2 GiB
    [0xdd, 0xff, 0xff, 0xff, 0xff, 0x01], // array32 of 4 G items
    [0xdf, 0xff, 0xff, 0xff, 0xff, ...TYPE_KEY], // map32 of 4 G entries
    [0x82, ...TYPE_KEY, 0xa4, 0x70, 0x69, 0x6e, 0x67], // map of 2 with 1 entry
    new Array(randomInt(100, 20_000)).fill(0x91), // arrays nested far past maxDepth
    [0xc7, 0xff, 0x01, 0x00], // ext8 (refused type) of 255 bytes, 1 present
  ];
  return Uint8Array.from(lies[randomInt(lies.length)] as number[]);
}

/** One hostile frame of any kind. */
export function hostileFrame(): Uint8Array {
  const kind = randomInt(3);
  return kind === 0 ? randomFrame() : kind === 1 ? mutatedFrame() : lyingFrame();
}
