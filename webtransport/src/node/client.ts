/**
 * A Node WebTransport client with the W3C API shape: `connectWebTransport(url,
 * options)` returns at once, like `new WebTransport(url, options)`; `ready`
 * settles when the session is established. Certificates are checked against
 * `serverCertificateHashes` (SHA-256 of the DER certificate), as browsers do.
 */
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { H3_ERROR } from '../h3/errors.ts';
import { parseResponseHead } from '../h3/message.ts';
import { peerCapabilities } from '../h3/settings.ts';
import { type IncomingPolicy, incomingPolicy } from '../webtransport/incoming-policy.ts';
import { type WebTransportLimits, webTransportLimits } from '../webtransport/limits.ts';
import { parseSelectedProtocol, serializeAvailableProtocols } from '../webtransport/protocol-fields.ts';
import { WebTransportSession } from '../webtransport/session.ts';
import { WebTransportError } from '../webtransport/types.ts';
import { checkServerCertificate } from './certificate-check.ts';
import { H3OverQuic } from './h3-over-quic.ts';
import { CONNECTION_ID_LENGTH, createQuicheConfig, type HostPort, quiche } from './quiche-config.ts';
import { type SocketBuffers, UdpEndpoint } from './udp-endpoint.ts';

export interface CertificateHash {
  readonly algorithm: 'sha-256';
  readonly value: ArrayBufferView | ArrayBuffer;
}

export interface ConnectOptions {
  /** Accept the server when the SHA-256 of its certificate matches one of these (W3C semantics). */
  readonly serverCertificateHashes?: CertificateHash[];
  /** Offered in `wt-available-protocols`; the chosen one appears as `protocol`. */
  readonly protocols?: string[];
  /** Extra trusted root certificates (PEM) when no hashes are given; the system roots are always trusted. */
  readonly ca?: string[];
  /** Sent as the `origin` header (browsers always send one). */
  readonly origin?: string;
  readonly limits?: Partial<WebTransportLimits>;
  /** What the application reads of what the server sends (default: everything); the rest is refused or dropped. */
  readonly incoming?: Partial<IncomingPolicy>;
  /** The UDP socket's kernel buffers (udp-endpoint.ts explains why they are larger than the default). */
  readonly socketBuffers?: SocketBuffers;
}

/** The Node client's session object: the W3C `WebTransport` shape. */
export type NodeWebTransport = WebTransportSession;

function toBytes(source: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (source instanceof Uint8Array) return source;
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return new Uint8Array(source);
}

export function connectWebTransport(url: string, options: ConnectOptions = {}): NodeWebTransport {
  const limits = webTransportLimits(options.limits);
  // The client's first bidirectional stream (id 0) carries the CONNECT request: it is the session id.
  const session = new WebTransportSession(0, limits, incomingPolicy(options.incoming));
  start(url, options, limits, session).catch((error: unknown) => {
    session.handleClosed(
      new WebTransportError(error instanceof Error ? error.message : 'connection failed', { source: 'session' }),
    );
  });
  return session;
}

async function start(url: string, options: ConnectOptions, limits: WebTransportLimits, session: WebTransportSession) {
  const target = new URL(url);
  if (target.protocol !== 'https:') throw new WebTransportError('WebTransport URLs use https:', { source: 'session' });
  // Checked before any packet: a protocol that is not a Structured Field String cannot be offered (RangeError).
  const offered =
    options.protocols !== undefined && options.protocols.length > 0
      ? serializeAvailableProtocols(options.protocols)
      : undefined;
  const hostname = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || 443);
  // No happy eyeballs: an IPv4 address is preferred when the name has one (dev servers bind 0.0.0.0).
  const address =
    isIP(hostname) !== 0
      ? hostname
      : (await lookup(hostname, { all: true })).sort((a, b) => a.family - b.family)[0]?.address;
  if (address === undefined) throw new WebTransportError(`cannot resolve ${hostname}`, { source: 'session' });
  const remote: HostPort = { host: address, port };
  const expectedHashes = (options.serverCertificateHashes ?? []).map((hash) => Buffer.from(toBytes(hash.value)));

  let connection: H3OverQuic | undefined;
  const endpoint = await UdpEndpoint.bind(
    address.includes(':') ? '::' : '0.0.0.0',
    0,
    (packet, from) => connection?.receivePacket(packet, from),
    remote,
    options.socketBuffers,
  );
  const local: HostPort = { host: address.includes(':') ? '::1' : '127.0.0.1', port: endpoint.local.port };
  const config = createQuicheConfig('client', limits);
  const scid = new Uint8Array(randomBytes(CONNECTION_ID_LENGTH));
  const quic = quiche.Connection.connect(isIP(hostname) !== 0 ? null : hostname, scid, local, remote, config);
  let requested = false;
  connection = new H3OverQuic({
    role: 'client',
    quic,
    local,
    remote,
    limits,
    sendPacket: (bytes, to) => endpoint.send(bytes, to),
    hooks: {
      onEstablished(conn) {
        const problem = checkServerCertificate(conn.quic.peerCertChain(), {
          hostname,
          hashes: expectedHashes,
          ...(options.ca ? { ca: options.ca } : {}),
        });
        if (problem !== undefined) {
          // TLS alert bad_certificate (42) as a QUIC crypto error (RFC 9001 §4.8).
          conn.quic.close(false, 0x100 + 42, new Uint8Array(0));
          session.handleClosed(new WebTransportError(problem, { source: 'session' }));
        }
      },
      onSettings(conn, settings) {
        if (requested) return;
        requested = true;
        if (!peerCapabilities(settings).webTransport) {
          conn.close(H3_ERROR.H3_NO_ERROR, 'no WebTransport');
          session.handleClosed(new WebTransportError('server does not support WebTransport', { source: 'session' }));
          return;
        }
        const fields = [
          { name: ':method', value: 'CONNECT' },
          { name: ':protocol', value: 'webtransport' },
          { name: ':scheme', value: 'https' },
          { name: ':authority', value: target.host },
          { name: ':path', value: `${target.pathname}${target.search}` },
          { name: 'origin', value: options.origin ?? 'null' },
          { name: 'sec-webtransport-http3-draft02', value: '1' },
        ];
        if (offered !== undefined) fields.push({ name: 'wt-available-protocols', value: offered });
        conn.addSession(session);
        conn.request(fields);
      },
      onHeaders(conn, streamId, fields) {
        if (streamId !== session.sessionId) return;
        const head = parseResponseHead(fields, streamId);
        if (head.status < 200) return; // interim response
        if (head.status >= 300) {
          session.handleClosed(
            new WebTransportError(`server refused the session with status ${head.status}`, { source: 'session' }),
          );
          conn.close(H3_ERROR.H3_NO_ERROR, 'session refused');
          return;
        }
        // A malformed wt-protocol is ignored: no protocol was negotiated (draft-ietf-webtrans-http3-16 §3.3).
        conn.establishSession(session, parseSelectedProtocol(head.fields.get('wt-protocol')) ?? '');
      },
      onRequestEnd(_conn, streamId) {
        if (streamId === session.sessionId && session.state === 'closed') queueMicrotask(closeConnection);
      },
      onClosed(conn) {
        conn.dispose();
        void endpoint.close();
      },
    },
  });
  // One session per client connection: when it ends, so does the connection. After a clean close,
  // wait for the server's FIN on the CONNECT stream (so the close capsule was delivered), or 1 s.
  const closeConnection = (): void => {
    if (connection !== undefined && !connection.isClosed) connection.close(H3_ERROR.H3_NO_ERROR, 'session closed');
  };
  session.closed.then(
    () => setTimeout(closeConnection, 1000).unref(),
    () => closeConnection(),
  );
  connection.flush();
}
