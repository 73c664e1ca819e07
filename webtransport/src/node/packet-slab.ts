/**
 * Memory for outgoing UDP packets: quiche writes each packet into a window of
 * a large shared slab, and only the bytes it wrote are kept, so the next packet
 * starts right after them. `Buffer.allocUnsafe` per packet took a full-size
 * window from an 8 KiB pool (a new pool, an ArrayBuffer with its backing store,
 * every ~6 packets, and a 50-byte ACK cost as much as a full packet); here one
 * slab serves hundreds of packets, which matters when a server sends to a
 * thousand peers at once. A packet handed to `dgram.send` is never written
 * again (the send may complete later and keeps its view), and a slab lives
 * until its last packet is sent.
 */

/** Bytes per slab: ~190 full 1,350-byte packets, far more ACK-sized ones. */
const SLAB_BYTES = 256 * 1024;
/** Packets start on 8-byte boundaries, as Node's own buffer pool does. */
const ALIGN = 8;

export class PacketSlab {
  readonly #packetBytes: number;
  readonly #slabBytes: number;
  #slab: Buffer;
  #offset = 0;

  /** `packetBytes`: the largest packet quiche may write (its max_send_udp_payload_size). */
  constructor(packetBytes: number, slabBytes = SLAB_BYTES) {
    if (slabBytes < packetBytes) throw new RangeError('a slab must hold at least one packet');
    this.#packetBytes = packetBytes;
    this.#slabBytes = slabBytes;
    this.#slab = Buffer.allocUnsafeSlow(slabBytes);
  }

  /** A window of `packetBytes` to build the next packet in; nothing is reserved until `take`. */
  window(): Buffer {
    if (this.#offset + this.#packetBytes > this.#slabBytes) {
      this.#slab = Buffer.allocUnsafeSlow(this.#slabBytes);
      this.#offset = 0;
    }
    return this.#slab.subarray(this.#offset, this.#offset + this.#packetBytes);
  }

  /** Keeps the first `length` bytes of the last window as a packet: they are never written again. */
  take(window: Buffer, length: number): Buffer {
    this.#offset += (length + ALIGN - 1) & ~(ALIGN - 1);
    return window.subarray(0, length);
  }
}

/** One slab for every connection of the process: the packets of a flush across many peers share it. */
export const sharedPacketSlab = (packetBytes: number): PacketSlab => {
  let slab = slabs.get(packetBytes);
  if (slab === undefined) {
    slab = new PacketSlab(packetBytes);
    slabs.set(packetBytes, slab);
  }
  return slab;
};

const slabs = new Map<number, PacketSlab>();
