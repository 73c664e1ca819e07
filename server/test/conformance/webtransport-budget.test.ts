/**
 * Issue 11: a Pulse session reads exactly one bidirectional stream, so a client
 * that is not authenticated cannot make the server keep bytes it never reads:
 * its unidirectional streams and extra bidirectional streams are refused at
 * once with STOP_SENDING (and RESET_STREAM) carrying STREAM_REFUSED, its
 * datagrams are dropped, and the server keeps answering well-behaved clients.
 */
import { dialWebTransport, FrameClient, ListeningServer, webTransportWire } from '@pulse/testing';
import { REFUSAL_CODE } from '@pulse/webtransport';
import { connectWebTransport, createDevCertificate, type WebTransportError } from '@pulse/webtransport/node';
import { describe, expect, it } from 'vitest';
import { withServer } from '../helpers/with-server.ts';

const certificate = await createDevCertificate();

/** Under the server's QUIC stream window: the client's QUIC takes it all at once, whatever the server does. */
const FIRST_BYTES = new Uint8Array(64 * 1024).fill(0x5a);

type Outcome = 'accepted' | 'stopped' | number;

/**
 * 'accepted' when the stream took the bytes, else the code of the STOP_SENDING
 * that failed `write`. quiche forgets a unidirectional stream (and the code) as
 * soon as the peer stops it: a write that comes after that knows only 'stopped'.
 */
async function outcomeOf(write: Promise<void>): Promise<Outcome> {
  try {
    await write;
    return 'accepted';
  } catch (error) {
    return (error as WebTransportError).streamErrorCode ?? 'stopped';
  }
}

/**
 * A session that opens Pulse's stream but never authenticates, then what Pulse
 * never reads: a second bidirectional stream, six unidirectional streams with
 * 64 KiB each, and 64 datagrams. Resolves with how each stream ended.
 */
async function unreadTraffic(url: string): Promise<Outcome[]> {
  const session = connectWebTransport(url, {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: certificate.sha256 }],
  });
  // The wire opens Pulse's bidirectional stream at once; hello waits until the rest is sent.
  const pulse = await FrameClient.open((events) => webTransportWire(session, events));
  const writers: WritableStreamDefaultWriter<Uint8Array>[] = [];
  writers.push((await session.createBidirectionalStream()).writable.getWriter());
  for (let i = 0; i < 6; i++) writers.push((await session.createUnidirectionalStream()).getWriter());
  const first = writers.map((writer) => outcomeOf(writer.write(FIRST_BYTES)));
  const datagrams = session.datagrams.writable.getWriter();
  for (let i = 0; i < 64; i++) await datagrams.write(new Uint8Array(1000).fill(i));
  // hello → welcome on Pulse's stream: the server has seen every stream above by now (one path, in order),
  // and its answer to them left before the welcome.
  await pulse.hello();
  // One more byte and FIN: a stream the server stopped fails with the STOP_SENDING's code.
  const outcomes = await Promise.all(
    writers.map(async (writer, i) => {
      const early = await (first[i] as Promise<Outcome>);
      return early !== 'accepted' ? early : outcomeOf(writer.write(Uint8Array.of(1)).then(() => writer.close()));
    }),
  );
  session.close();
  return outcomes;
}

describe('webtransport: what a session does not read is refused (issue 11)', () => {
  it('refuses the uni streams, extra bidi streams and datagrams of an unauthenticated client, and keeps serving', async () => {
    await withServer(
      () => ListeningServer.start({ certificate }),
      async (server) => {
        const outcomes = await Promise.all([
          unreadTraffic(server.webtransportUrl),
          unreadTraffic(server.webtransportUrl),
        ]);
        for (const [extra, ...uni] of outcomes) {
          expect(extra).toBe(REFUSAL_CODE.STREAM_REFUSED);
          expect(uni).toHaveLength(6);
          // The code, when quiche still knew it as the client wrote (see outcomeOf).
          for (const outcome of uni) expect([REFUSAL_CODE.STREAM_REFUSED, 'stopped']).toContain(outcome);
        }

        const client = await FrameClient.connect(dialWebTransport(server.webtransportUrl, certificate.sha256));
        expect((await client.exchange({ type: 'ping', nonce: 11 }, 'pong')).nonce).toBe(11);
        client.close();

        // An operator sees it: the refusals are counted on /metrics.
        const metrics = await (await fetch(server.metricsUrl)).text();
        const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1]);
        expect(value('pulse_webtransport_streams_refused_total')).toBeGreaterThanOrEqual(14);
        expect(value('pulse_webtransport_dropped_bytes_total')).toBeGreaterThan(0);
        expect(value('pulse_webtransport_receive_buffered_bytes')).toBeGreaterThanOrEqual(0);
      },
    );
  });
});
