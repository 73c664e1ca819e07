/** Outgoing packets carved from shared slabs: a packet once taken is never written over. */
import { describe, expect, it } from 'vitest';
import { PacketSlab } from '../../src/node/packet-slab.ts';

describe('PacketSlab', () => {
  it('offers the same window until a packet is taken, then the bytes right after it (8-byte aligned)', () => {
    const slab = new PacketSlab(100, 1000);
    const first = slab.window();
    expect(first.length).toBe(100);
    expect(slab.window().byteOffset).toBe(first.byteOffset); // nothing taken: offered again
    first.fill(1, 0, 41);
    const packet = slab.take(first, 41);
    expect(packet.length).toBe(41);
    const second = slab.window();
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset + 48);
    second.fill(2);
    expect([...packet].every((byte) => byte === 1)).toBe(true);
  });

  it('starts a new slab when the next window does not fit, leaving taken packets as they were', () => {
    const slab = new PacketSlab(100, 250);
    const packets: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const window = slab.window();
      window.fill(i);
      packets.push(slab.take(window, 100));
    }
    expect(new Set(packets.map((packet) => packet.buffer)).size).toBe(3);
    packets.forEach((packet, i) => {
      expect([...packet].every((byte) => byte === i)).toBe(true);
    });
  });

  it('refuses a slab smaller than one packet', () => {
    expect(() => new PacketSlab(1350, 1000)).toThrow(RangeError);
  });
});
