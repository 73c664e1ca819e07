import { ProtoError } from './errors.ts';
import type { ProtoLimits } from './limits.ts';

/**
 * A structural pre-scan of MessagePack bytes, run before the decoder sees them.
 *
 * It walks the value without allocating it and refuses, with a typed error:
 * lengths that point past the end of the input (so no decoder pre-allocates on a
 * lying header), nesting deeper than `maxDepth` (so no decoder recurses without
 * bound), arrays and maps longer than `maxArrayLength`, non-string map keys,
 * extension types and the reserved byte 0xc1 (Pulse sends neither), and bytes
 * after the one top-level value. Format: https://github.com/msgpack/msgpack/blob/master/spec.md
 */
export function guardMessagePack(bytes: Uint8Array, limits: ProtoLimits): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  // Each stack entry counts the values still expected by one open container;
  // map entries count twice (key, value) and keys sit at even positions.
  const remaining: number[] = [];
  const isMap: boolean[] = [];
  let offset = 0;

  const need = (count: number): void => {
    if (offset + count > end)
      throw new ProtoError('PROTO_MALFORMED', 'MessagePack value runs past the end of the frame');
  };
  const open = (count: number, map: boolean): void => {
    if (count > limits.maxArrayLength) {
      throw new ProtoError('PROTO_BAD_FIELD', `container of ${count} entries exceeds ${limits.maxArrayLength}`);
    }
    // Every entry takes at least one byte: a count larger than what is left lies.
    need(map ? count * 2 : count);
    if (count === 0) return;
    if (remaining.length >= limits.maxDepth) {
      throw new ProtoError('PROTO_TOO_DEEP', `nesting deeper than ${limits.maxDepth}`);
    }
    remaining.push(map ? count * 2 : count);
    isMap.push(map);
  };

  do {
    const top = remaining.length - 1;
    if (top >= 0) {
      if (isMap[top] === true && (remaining[top] as number) % 2 === 0) {
        // At a map key: Pulse's maps are keyed by strings only.
        need(1);
        const k = bytes[offset] as number;
        if (!((k >= 0xa0 && k <= 0xbf) || k === 0xd9 || k === 0xda || k === 0xdb)) {
          throw new ProtoError('PROTO_MALFORMED', 'map key is not a string');
        }
      }
      // The value about to be read fills one slot of its parent.
      remaining[top] = (remaining[top] as number) - 1;
    }
    need(1);
    const b = bytes[offset++] as number;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
      // fixint, nil, booleans: the byte is the value.
    } else if (b <= 0x8f) open(b & 0x0f, true);
    else if (b <= 0x9f) open(b & 0x0f, false);
    else if (b <= 0xbf) skipBytes(b & 0x1f);
    else {
      switch (b) {
        case 0xc4: // bin 8
        case 0xd9: // str 8
          skipBytes(readLength(1));
          break;
        case 0xc5: // bin 16
        case 0xda: // str 16
          skipBytes(readLength(2));
          break;
        case 0xc6: // bin 32
        case 0xdb: // str 32
          skipBytes(readLength(4));
          break;
        case 0xcc: // uint 8
        case 0xd0: // int 8
          skipBytes(1);
          break;
        case 0xcd: // uint 16
        case 0xd1: // int 16
          skipBytes(2);
          break;
        case 0xca: // float 32
        case 0xce: // uint 32
        case 0xd2: // int 32
          skipBytes(4);
          break;
        case 0xcb: // float 64
        case 0xcf: // uint 64
        case 0xd3: // int 64
          skipBytes(8);
          break;
        case 0xdc:
          open(readLength(2), false);
          break;
        case 0xdd:
          open(readLength(4), false);
          break;
        case 0xde:
          open(readLength(2), true);
          break;
        case 0xdf:
          open(readLength(4), true);
          break;
        default:
          // 0xc1 (never used) and every extension type (0xc7-0xc9, 0xd4-0xd8).
          throw new ProtoError('PROTO_MALFORMED', `MessagePack type 0x${b.toString(16)} is not allowed`);
      }
    }
    // Close every container that this value completed.
    while (remaining.length > 0 && remaining[remaining.length - 1] === 0) {
      remaining.pop();
      isMap.pop();
    }
  } while (remaining.length > 0);

  if (offset !== end) throw new ProtoError('PROTO_TRAILING_BYTES', `${end - offset} bytes after the frame`);

  function readLength(size: 1 | 2 | 4): number {
    need(size);
    const length = size === 1 ? view.getUint8(offset) : size === 2 ? view.getUint16(offset) : view.getUint32(offset);
    offset += size;
    return length;
  }
  function skipBytes(length: number): void {
    if (length > limits.maxFrameBytes) {
      throw new ProtoError('PROTO_FRAME_TOO_LARGE', `field of ${length} bytes exceeds ${limits.maxFrameBytes}`);
    }
    need(length);
    offset += length;
  }
}
