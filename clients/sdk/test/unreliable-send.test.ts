import { prefixLength } from '@pulse/proto';
import { describe, expect, it } from 'vitest';
import type { TransportEvents, WebTransportLike } from '../src/transport/types.ts';
import { openWebTransport } from '../src/transport/webtransport.ts';

/** A WebTransport session in memory: what the SDK writes on its stream and in datagrams, and a way to send it datagrams. */
function fakeSession(maxDatagramSize: number) {
  const stream: Uint8Array[] = [];
  const datagrams: Uint8Array[] = [];
  let pushDatagram: (bytes: Uint8Array) => void = () => {};
  const collect = (into: Uint8Array[]) => new WritableStream<Uint8Array>({ write: (chunk) => void into.push(chunk) });
  const session: WebTransportLike = {
    ready: Promise.resolve(),
    closed: new Promise(() => {}),
    createBidirectionalStream: async () => ({ readable: new ReadableStream(), writable: collect(stream) }),
    close: () => {},
    datagrams: {
      readable: new ReadableStream({
        start: (controller) => {
          pushDatagram = (bytes) => controller.enqueue(bytes);
        },
      }),
      writable: collect(datagrams),
      maxDatagramSize,
    },
  };
  return { session, stream, datagrams, pushDatagram: (bytes: Uint8Array) => pushDatagram(bytes) };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the WebTransport transport: unreliable sends (PROTOCOL.md "Ephemeral events")', () => {
  it('puts a frame that fits in one unprefixed datagram, and one that does not on the stream', async () => {
    const fake = fakeSession(100);
    const events: TransportEvents = { onFrame: () => {}, onClose: () => {} };
    const options = { timeoutMs: 1_000, maxFrameBytes: 1 << 20 };
    const transport = await openWebTransport(() => fake.session, 'https://x/pulse/wt', [], options, events);
    const small = new Uint8Array(100).fill(1);
    const large = new Uint8Array(101).fill(2);
    transport.sendUnreliable?.(small);
    transport.sendUnreliable?.(large);
    await tick();
    expect(fake.datagrams).toEqual([small]);
    expect(fake.stream).toEqual([prefixLength(large)]);
  });

  it('hands each datagram received to onDatagram, not to onFrame', async () => {
    const fake = fakeSession(1200);
    const frames: Uint8Array[] = [];
    const datagrams: Uint8Array[] = [];
    const events: TransportEvents = {
      onFrame: (bytes) => frames.push(bytes),
      onClose: () => {},
      onDatagram: (bytes) => datagrams.push(bytes),
    };
    await openWebTransport(
      () => fake.session,
      'https://x/pulse/wt',
      [],
      { timeoutMs: 1_000, maxFrameBytes: 1 << 20 },
      events,
    );
    fake.pushDatagram(Uint8Array.of(1, 2, 3));
    await tick();
    expect(datagrams).toEqual([Uint8Array.of(1, 2, 3)]);
    expect(frames).toEqual([]);
  });

  it('without datagrams, an unreliable send goes on the stream', async () => {
    const fake = fakeSession(0);
    const { datagrams: _, ...withoutDatagrams } = fake.session;
    const events: TransportEvents = { onFrame: () => {}, onClose: () => {} };
    const transport = await openWebTransport(
      () => withoutDatagrams,
      'https://x/pulse/wt',
      [],
      { timeoutMs: 1_000, maxFrameBytes: 1 << 20 },
      events,
    );
    transport.sendUnreliable?.(Uint8Array.of(9));
    await tick();
    expect(fake.stream).toEqual([prefixLength(Uint8Array.of(9))]);
  });
});
