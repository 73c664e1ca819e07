/**
 * QUIC handshakes cannot fill the connection table (issue 11): Initials under
 * 1,200 bytes get nothing back (not even Version Negotiation), a stateless Retry
 * under load, a cap on handshakes in progress per source (IPv4, IPv6 /64) and in
 * total, a handshake timeout; and a real client still connects meanwhile.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { HandshakeAdmission, type InitialFacts } from '../../src/node/handshake-admission.ts';
import { connectWebTransport } from '../../src/node/index.ts';
import { createQuicheConfig, quiche } from '../../src/node/quiche-config.ts';
import { RetryTokens } from '../../src/node/retry-token.ts';
import { sourceKey } from '../../src/node/source-key.ts';
import { webTransportLimits } from '../../src/webtransport/limits.ts';
import { type EchoServer, readAll, startEchoServer } from './echo-server.ts';

describe('handshake admission rules', () => {
  const facts = (over: Partial<InitialFacts> = {}): InitialFacts => ({
    length: 1200,
    versionSupported: true,
    isInitial: true,
    token: 'none',
    sourceHost: '192.0.2.1',
    connections: 0,
    maxConnections: 100,
    ...over,
  });

  it('drops an Initial under 1,200 bytes before Version Negotiation', () => {
    const admission = new HandshakeAdmission();
    expect(admission.decide(facts({ length: 1199, versionSupported: false }))).toEqual({
      action: 'drop',
      reason: 'too_small',
    });
    expect(admission.decide(facts({ versionSupported: false }))).toEqual({ action: 'version-negotiation' });
  });

  it('asks for a Retry above the load threshold, never for a validated client', () => {
    const admission = new HandshakeAdmission({ retryAbove: 1 });
    expect(admission.decide(facts())).toEqual({ action: 'accept' });
    admission.begin('192.0.2.1');
    expect(admission.decide(facts())).toEqual({ action: 'retry' });
    expect(admission.decide(facts({ token: 'valid' }))).toEqual({ action: 'accept' });
    expect(admission.decide(facts({ token: 'invalid' }))).toEqual({ action: 'drop', reason: 'invalid_token' });
    expect(admission.stats()).toMatchObject({ retriesSent: 1, handshakesInProgress: 1 });
  });

  it('caps handshakes in progress per source (IPv6 by /64) and in total, and frees them once', () => {
    const admission = new HandshakeAdmission({ maxHandshakesPerSource: 2, maxHandshakes: 3, retryAbove: 10 });
    const ends = [admission.begin('2001:db8:1:2::1'), admission.begin('2001:db8:1:2:ffff::9')];
    const sameNet = facts({ sourceHost: '2001:db8:1:2:abcd::1' });
    expect(admission.decide(sameNet)).toEqual({ action: 'drop', reason: 'max_handshakes_per_source' });
    expect(admission.decide(facts({ sourceHost: '2001:db8:1:3::1' }))).toEqual({ action: 'accept' });
    ends.push(admission.begin('198.51.100.7'));
    expect(admission.decide(facts({ sourceHost: '203.0.113.1' }))).toEqual({
      action: 'drop',
      reason: 'max_handshakes',
    });
    ends[0]?.();
    ends[0]?.();
    expect(admission.stats().handshakesInProgress).toBe(2);
    expect(admission.decide(sameNet)).toEqual({ action: 'accept' });
    expect(admission.decide(facts({ connections: 100 }))).toEqual({ action: 'drop', reason: 'max_connections' });
  });

  it('groups sources: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by /64', () => {
    expect(sourceKey('192.0.2.1')).toBe('192.0.2.1');
    expect(sourceKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(sourceKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
  });

  it('accepts a Retry token only from its address and port, for its Retry, while fresh, untampered', () => {
    const tokens = new RetryTokens(10_000);
    const odcid = new Uint8Array(randomBytes(16));
    const scid = new Uint8Array(randomBytes(20));
    const peer = { host: '192.0.2.1', port: 4000 };
    const token = tokens.mint(odcid, scid, peer, 1_000);
    expect(tokens.validate(token, scid, peer, 1_001)).toEqual(odcid);
    expect(tokens.validate(token, scid, { host: '192.0.2.2', port: 4000 }, 1_001)).toBeUndefined();
    expect(tokens.validate(token, scid, { host: '192.0.2.1', port: 4001 }, 1_001)).toBeUndefined();
    expect(tokens.validate(token, new Uint8Array(randomBytes(20)), peer, 1_001)).toBeUndefined();
    expect(tokens.validate(token, scid, peer, 11_000)).toBeUndefined();
    expect(tokens.validate(token, scid, peer, 999)).toBeUndefined();
    for (let i = 0; i < token.length; i++) {
      const tampered = token.slice();
      tampered[i]! ^= 1;
      expect(tokens.validate(tampered, scid, peer, 1_001)).toBeUndefined();
    }
    expect(new RetryTokens().validate(token, scid, peer, 1_001)).toBeUndefined();
  });
});

/** A UDP socket on `host` that collects every datagram the server sends back. */
async function udpFrom(host: string): Promise<{ socket: Socket; replies: Buffer[] }> {
  const socket = createSocket('udp4');
  const replies: Buffer[] = [];
  socket.on('message', (data) => replies.push(data));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { socket, replies };
}

/** The first flight of a real QUIC client (an Initial padded to 1,200 bytes or more). */
function realInitial(from: { host: string; port: number }, serverPort: number): Buffer {
  const quic = quiche.Connection.connect(
    null,
    new Uint8Array(randomBytes(20)),
    from,
    { host: '127.0.0.1', port: serverPort },
    createQuicheConfig('client', webTransportLimits()),
  );
  const out = Buffer.alloc(1350);
  const result = quic.send(out);
  if (result === null) throw new Error('quiche wrote no Initial');
  return out.subarray(0, result[0]);
}

async function settle(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  if (!condition()) throw new Error(`never happened: ${what}`);
}

async function echoOnce(server: EchoServer): Promise<string> {
  const transport = connectWebTransport(server.url(), {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: server.certificate.sha256 }],
  });
  await transport.ready;
  const stream = await transport.createBidirectionalStream();
  const echoed = readAll(stream.readable);
  const writer = stream.writable.getWriter();
  await writer.write(new TextEncoder().encode('connected'));
  await writer.close();
  const text = new TextDecoder().decode(await echoed);
  transport.close();
  return text;
}

describe('handshake admission on a live server', () => {
  let server: EchoServer | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await server?.close();
    server = undefined;
  });

  it('answers Version Negotiation only to a packet of 1,200 bytes or more', async () => {
    server = await startEchoServer();
    const { socket, replies } = await udpFrom('127.0.0.1');
    sockets.push(socket);
    // Long header, version 0x1a2a3a4a (reserved, unsupported), 8-byte ids, no token, length 1200.
    const header = Buffer.concat([
      Buffer.from([0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8]),
      randomBytes(8),
      Buffer.from([8]),
      randomBytes(8),
      Buffer.from([0, 0x44, 0xb0]),
    ]);
    const small = Buffer.concat([header, randomBytes(100)]);
    const large = Buffer.concat([header, randomBytes(1200)]);
    socket.send(small, server.server.port, '127.0.0.1');
    socket.send(small, server.server.port, '127.0.0.1');
    socket.send(large, server.server.port, '127.0.0.1');
    await settle(() => replies.length > 0, 'a Version Negotiation reply');
    // Let any late answer to the small ones arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(replies).toHaveLength(1);
    expect(quiche.Header.fromSlice(replies[0] as Buffer, 20).ty).toBe(quiche.Type.VersionNegotiation);
    expect(server.server.handshakeStats.initialsDropped.too_small).toBe(2);
    expect(server.server.handshakeStats.versionNegotiationsSent).toBe(1);
  });

  it('sends a stateless Retry under load and keeps no state; a real client still connects', async () => {
    server = await startEchoServer({ admission: { retryAbove: 0 } });
    const port = server.server.port;
    const { socket, replies } = await udpFrom('127.0.0.2');
    sockets.push(socket);
    for (let i = 0; i < 50; i++)
      socket.send(realInitial({ host: '127.0.0.2', port: socket.address().port }, port), port, '127.0.0.1');
    await settle(() => replies.length === 50, '50 Retry packets');
    for (const reply of replies) expect(quiche.Header.fromSlice(reply, 20).ty).toBe(quiche.Type.Retry);
    expect(server.server.connectionCount).toBe(0);
    // Garbage that looks like an Initial with a token: refused without state.
    const forged = Buffer.concat([
      Buffer.from([0xc0, 0, 0, 0, 1, 20]),
      randomBytes(20),
      Buffer.from([0, 20]),
      randomBytes(20),
      randomBytes(1200),
    ]);
    socket.send(forged, port, '127.0.0.1');
    expect(await echoOnce(server)).toBe('connected');
    expect(server.server.handshakeStats.retriesSent).toBeGreaterThanOrEqual(51);
  });

  it('caps half-open handshakes per source and drops them after the handshake timeout', async () => {
    server = await startEchoServer({
      admission: { maxHandshakesPerSource: 3, handshakeTimeoutMs: 300, retryAbove: 1_000 },
    });
    const port = server.server.port;
    // Twenty clients on 127.0.0.2 that send their first flight and never answer.
    for (let i = 0; i < 20; i++) {
      const { socket } = await udpFrom('127.0.0.2');
      sockets.push(socket);
      socket.send(realInitial({ host: '127.0.0.2', port: socket.address().port }, port), port, '127.0.0.1');
    }
    await settle(() => server?.server.handshakeStats.initialsDropped.max_handshakes_per_source === 17, '17 refusals');
    expect(server.server.connectionCount).toBe(3);
    // Another source is not held back by them.
    expect(await echoOnce(server)).toBe('connected');
    await settle(() => server?.server.connectionCount === 0, 'the half-open handshakes to time out');
    expect(server.server.handshakeStats).toMatchObject({ handshakeTimeouts: 3, handshakesInProgress: 0 });
  });
});
