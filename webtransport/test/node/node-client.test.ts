/**
 * Node client ↔ server over real UDP on 127.0.0.1 (and ::1): streams both ways,
 * datagrams, close codes, resets, many concurrent streams, and backpressure
 * against a slow reader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectWebTransport,
  type NodeWebTransport,
  type SessionRequest,
  WebTransportError,
} from '../../src/node/index.ts';
import { type EchoServer, readAll, startEchoServer } from './echo-server.ts';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value);

let echo: EchoServer;

function connect(server: EchoServer, path = '/echo', protocols?: string[]): NodeWebTransport {
  return connectWebTransport(server.url(path), {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: server.certificate.sha256 }],
    ...(protocols ? { protocols } : {}),
  });
}

async function echoBidi(transport: NodeWebTransport, payload: Uint8Array): Promise<Uint8Array> {
  const stream = await transport.createBidirectionalStream();
  // Read while writing: an echo larger than both directions' windows would otherwise deadlock (as over TCP).
  const echoed = readAll(stream.readable);
  const writer = stream.writable.getWriter();
  await writer.write(payload);
  await writer.close();
  return echoed;
}

beforeAll(async () => {
  echo = await startEchoServer();
});

afterAll(async () => {
  await echo.close();
});

describe('Node WebTransport client and server over UDP', () => {
  it('echoes a bidirectional stream, a unidirectional stream and datagrams', async () => {
    const transport = connect(echo);
    await transport.ready;
    expect(text(await echoBidi(transport, bytes('hello bidi')))).toBe('hello bidi');

    const uni = await transport.createUnidirectionalStream();
    const uniWriter = uni.getWriter();
    await uniWriter.write(bytes('hello uni'));
    await uniWriter.close();
    const reply = await transport.incomingUnidirectionalStreams.getReader().read();
    expect(text(await readAll(reply.value as ReadableStream<Uint8Array>))).toBe('hello uni');

    const datagramWriter = transport.datagrams.writable.getWriter();
    const datagramReader = transport.datagrams.readable.getReader();
    await datagramWriter.write(bytes('hello datagram'));
    expect(text((await datagramReader.read()).value as Uint8Array)).toBe('hello datagram');
    expect(transport.datagrams.maxDatagramSize).toBeGreaterThan(1000);
    transport.close();
    await transport.closed;
  });

  it('echoes a large payload intact', async () => {
    const transport = connect(echo);
    await transport.ready;
    const payload = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
    expect(Buffer.from(await echoBidi(transport, payload)).equals(Buffer.from(payload))).toBe(true);
    transport.close();
  });

  it('carries many concurrent streams', async () => {
    const transport = connect(echo);
    await transport.ready;
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => echoBidi(transport, bytes(`stream ${i}`)).then(text)),
    );
    expect(results).toEqual(Array.from({ length: 300 }, (_, i) => `stream ${i}`));
    transport.close();
  });

  it('delivers the client close code and reason to the server, and the server close to the client', async () => {
    const transport = connect(echo);
    await transport.ready;
    const serverSide = echo.sessions.at(-1);
    transport.close({ closeCode: 4242, reason: 'client leaves' });
    expect(await transport.closed).toEqual({ closeCode: 4242, reason: 'client leaves' });
    expect(await serverSide?.closed).toEqual({ closeCode: 4242, reason: 'client leaves' });

    const second = connect(echo);
    await second.ready;
    const serverSession = echo.sessions.at(-1);
    serverSession?.close({ closeCode: 17, reason: 'server says bye' });
    expect(await second.closed).toEqual({ closeCode: 17, reason: 'server says bye' });
  });

  it('tells the server the session path, authority, origin and peer address', async () => {
    let seen: SessionRequest | undefined;
    const server = await startEchoServer({
      onRequest: (request) => {
        seen = request;
      },
    });
    try {
      const transport = connectWebTransport(`${server.url()}?room=7`, {
        serverCertificateHashes: [{ algorithm: 'sha-256', value: server.certificate.sha256 }],
        origin: 'https://pulse.example',
      });
      await transport.ready;
      expect(seen).toMatchObject({
        path: '/echo?room=7',
        authority: `127.0.0.1:${server.server.port}`,
        origin: 'https://pulse.example',
        remoteAddress: '127.0.0.1',
        protocols: [],
      });
      expect(seen?.remotePort).toBeGreaterThan(0);
      transport.close();
    } finally {
      await server.close();
    }
  });

  it('selects the protocol the server picks among those offered', async () => {
    const transport = connect(echo, '/echo', ['pulse-v2', 'pulse-v1']);
    await transport.ready;
    expect(transport.protocol).toBe('pulse-v2');
    transport.close();
  });

  it('rejects ready when a protocol cannot be offered (not a Structured Field String, draft §3.3)', async () => {
    const transport = connect(echo, '/echo', ['pulse-v1', 'pulse-\u00e9']);
    await expect(transport.ready).rejects.toThrow(/Structured Field String/);
    await expect(transport.closed).rejects.toBeInstanceOf(WebTransportError);
  });

  it('rejects ready for an unregistered path and for a certificate hash that does not match', async () => {
    const wrongPath = connect(echo, '/missing');
    await expect(wrongPath.ready).rejects.toThrow(/404/);
    const wrongHash = connectWebTransport(echo.url(), {
      serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(32) }],
    });
    await expect(wrongHash.ready).rejects.toBeInstanceOf(WebTransportError);
  });

  it('verifies servers without hashes through the Web PKI (trusted roots, host name)', async () => {
    const untrusted = connectWebTransport(echo.url());
    await expect(untrusted.ready).rejects.toThrow(/trusted root/);
    const trusted = connectWebTransport(echo.url(), { ca: [echo.certificate.certPem] });
    await trusted.ready;
    expect(text(await echoBidi(trusted, bytes('pki')))).toBe('pki');
    trusted.close();
  });

  it('passes stream reset codes through both ways', async () => {
    const resetServer = await startEchoServer({
      onSession(session) {
        void (async () => {
          for await (const stream of session.incomingBidirectionalStreams) {
            const reader = stream.readable.getReader();
            const outcome = await reader.read().then(
              () => 'data',
              (error: WebTransportError) => `reset ${error.streamErrorCode}`,
            );
            const writer = stream.writable.getWriter();
            await writer.write(bytes(outcome)).catch(() => {});
            await writer.abort(new WebTransportError('nope', { streamErrorCode: 99 })).catch(() => {});
          }
        })().catch(() => {});
      },
    });
    try {
      const transport = connect(resetServer);
      await transport.ready;
      const stream = await transport.createBidirectionalStream();
      await stream.writable.abort(new WebTransportError('abort', { streamErrorCode: 1234 }));
      const reader = stream.readable.getReader();
      const first = await reader.read();
      expect(text(first.value as Uint8Array)).toBe('reset 1234');
      await expect(reader.read()).rejects.toMatchObject({ streamErrorCode: 99 });
      transport.close();
    } finally {
      await resetServer.close();
    }
  });

  it('applies backpressure: a slow reader holds the writer back instead of buffering', async () => {
    const chunk = new Uint8Array(16 * 1024);
    const total = 4 * 1024 * 1024;
    let accepted = 0;
    let writerDone: Promise<void> = Promise.resolve();
    const slowServer = await startEchoServer({
      onSession(session) {
        writerDone = (async () => {
          const stream = await session.createUnidirectionalStream();
          const writer = stream.getWriter();
          while (accepted < total) {
            await writer.write(chunk);
            accepted += chunk.length;
          }
          await writer.close();
        })();
      },
    });
    try {
      const transport = connectWebTransport(slowServer.url(), {
        serverCertificateHashes: [{ algorithm: 'sha-256', value: slowServer.certificate.sha256 }],
        limits: { streamWindowBytes: 64 * 1024, streamReadBufferBytes: 16 * 1024 },
      });
      await transport.ready;
      const incoming = await transport.incomingUnidirectionalStreams.getReader().read();
      // Wait until the writer stalls (no progress over a few rounds), without reading.
      let previous = -1;
      while (accepted !== previous) {
        previous = accepted;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // Bounded by the QUIC stream window plus the reader's buffer and one read chunk, far below 4 MiB.
      expect(accepted).toBeLessThan(256 * 1024);
      const received = await readAll(incoming.value as ReadableStream<Uint8Array>);
      expect(received.length).toBe(total);
      await writerDone;
      transport.close();
    } finally {
      await slowServer.close();
    }
  });

  it('keeps a quiet session alive past the idle timeout', async () => {
    const shortIdle = { idleTimeoutMs: 1000 };
    const server = await startEchoServer({ limits: shortIdle });
    try {
      const transport = connectWebTransport(server.url(), {
        serverCertificateHashes: [{ algorithm: 'sha-256', value: server.certificate.sha256 }],
        limits: shortIdle,
      });
      await transport.ready;
      await new Promise((resolve) => setTimeout(resolve, 2500)); // well past the idle timeout, no traffic
      expect(text(await echoBidi(transport, bytes('still here')))).toBe('still here');
      transport.close();
    } finally {
      await server.close();
    }
  });

  it('resolves host names (localhost)', async () => {
    const transport = connectWebTransport(echo.url().replace('127.0.0.1', 'localhost'), {
      serverCertificateHashes: [{ algorithm: 'sha-256', value: echo.certificate.sha256 }],
    });
    await transport.ready;
    expect(text(await echoBidi(transport, bytes('by name')))).toBe('by name');
    transport.close();
  });

  it('works over IPv6 loopback', async () => {
    const server6 = await startEchoServer({ host: '::1' });
    try {
      const transport = connect(server6);
      await transport.ready;
      expect(text(await echoBidi(transport, bytes('over ipv6')))).toBe('over ipv6');
      transport.close();
    } finally {
      await server6.close();
    }
  });
});

describe('server shutdown', () => {
  it('closes open sessions cleanly (GOAWAY, then CLOSE_WEBTRANSPORT_SESSION)', async () => {
    const server = await startEchoServer();
    const transport = connect(server);
    await transport.ready;
    await server.close();
    expect(await transport.closed).toEqual({ closeCode: 0, reason: 'server closing' });
  });
});
