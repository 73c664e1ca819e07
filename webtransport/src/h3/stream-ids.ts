/** QUIC stream id arithmetic (RFC 9000 §2.1): the two low bits give initiator and direction. */

/** Which end of the connection this endpoint is. */
export type Role = 'client' | 'server';

export function isBidirectional(streamId: number): boolean {
  return (streamId & 0x2) === 0;
}

export function isClientInitiated(streamId: number): boolean {
  return (streamId & 0x1) === 0;
}

/** Whether `streamId` was opened by the endpoint with `role`. */
export function isLocallyInitiated(streamId: number, role: Role): boolean {
  return isClientInitiated(streamId) === (role === 'client');
}

/** Allocates the stream ids one endpoint opens, in order. */
export class StreamIdAllocator {
  #nextBidi: number;
  #nextUni: number;

  constructor(role: Role) {
    const initiator = role === 'client' ? 0 : 1;
    this.#nextBidi = initiator;
    this.#nextUni = initiator | 0x2;
  }

  next(bidirectional: boolean): number {
    if (bidirectional) {
      const id = this.#nextBidi;
      this.#nextBidi += 4;
      return id;
    }
    const id = this.#nextUni;
    this.#nextUni += 4;
    return id;
  }
}
