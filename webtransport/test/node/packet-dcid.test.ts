import { describe, expect, it } from 'vitest';
import { destinationConnectionIdRange } from '../../src/node/packet-dcid.ts';

describe('destinationConnectionIdRange', () => {
  it('reads a long header DCID by its length byte (RFC 9000 §17.2)', () => {
    const packet = new Uint8Array([0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0]);
    expect(destinationConnectionIdRange(packet, 20)).toEqual({ start: 6, end: 14 });
  });

  it('reads a short header DCID with our fixed length (RFC 9000 §17.3)', () => {
    const packet = new Uint8Array(40).fill(9);
    packet[0] = 0x41;
    expect(destinationConnectionIdRange(packet, 20)).toEqual({ start: 1, end: 21 });
  });

  it('refuses packets too short to hold the DCID', () => {
    expect(destinationConnectionIdRange(new Uint8Array(0), 20)).toBeUndefined();
    expect(destinationConnectionIdRange(new Uint8Array([0x41, 1, 2]), 20)).toBeUndefined();
    expect(destinationConnectionIdRange(new Uint8Array([0xc0, 0, 0, 0, 1]), 20)).toBeUndefined();
    expect(destinationConnectionIdRange(new Uint8Array([0xc0, 0, 0, 0, 1, 20, 1, 2]), 20)).toBeUndefined();
  });
});
