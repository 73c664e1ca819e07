/**
 * The WebTransport server: a UDP socket, a map of QUIC connections, and the
 * edge that applies the accept policy (../webtransport/accept-policy.ts) to
 * each request: extended CONNECT requests on registered paths become sessions
 * (RFC 9220, draft-ietf-webtrans-http3 §3), other requests get a final status.
 */
import { randomBytes } from 'node:crypto';
import { H3_ERROR, H3Error } from '../h3/errors.ts';
import { parseRequestHead, type RequestHead } from '../h3/message.ts';
import type { FieldLine } from '../qpack/field-section.ts';
import {
  type AcceptPolicy,
  acceptedResponse,
  decideAccept,
  refusal,
  type SessionHead,
} from '../webtransport/accept-policy.ts';
import { type IncomingPolicy, incomingPolicy } from '../webtransport/incoming-policy.ts';
import { type WebTransportLimits, webTransportLimits } from '../webtransport/limits.ts';
import { ReceiveBudget, type ReceiveStats } from '../webtransport/receive-budget.ts';
import { WebTransportSession } from '../webtransport/session.ts';
import { H3OverQuic } from './h3-over-quic.ts';
import { type AdmissionLimits, HandshakeAdmission, type HandshakeStats } from './handshake-admission.ts';
import { destinationConnectionIdRange } from './packet-dcid.ts';
import {
  CONNECTION_ID_LENGTH,
  createQuicheConfig,
  type HostPort,
  MAX_SEND_UDP_PAYLOAD,
  type Header as QuicHeader,
  quiche,
  type TlsIdentity,
} from './quiche-config.ts';
import { RetryTokens } from './retry-token.ts';
import { type SocketBuffers, UdpEndpoint } from './udp-endpoint.ts';

/** The server side of a session: the same W3C shape as the client's `WebTransport`. */
export type ServerWebTransportSession = WebTransportSession;

/** A session request as `onSession` sees it: its head (path, authority, origin, offered protocols) and the peer. */
export interface SessionRequest extends SessionHead {
  /** The client's IP address and UDP port, as seen by the server. */
  readonly remoteAddress: string;
  readonly remotePort: number;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly certificate: TlsIdentity;
  /** Paths that accept sessions (compared without the query); others get 404. */
  readonly paths: string[];
  readonly limits?: Partial<WebTransportLimits>;
  /**
   * Bounds on QUIC handshakes: in progress in total and per source, their
   * timeout, and the load above which clients are asked to Retry first
   * (handshake-admission.ts). The cap on connections is `limits.maxConnections`.
   */
  readonly admission?: Partial<AdmissionLimits>;
  /**
   * What the application reads of what peers send, for every session: streams
   * beyond it are refused at once (STOP_SENDING with REFUSAL_CODE.STREAM_REFUSED),
   * datagrams dropped. Default: everything, as the W3C API.
   */
  readonly incoming?: Partial<IncomingPolicy>;
  /** The UDP socket's kernel buffers (udp-endpoint.ts explains why they are larger than the default). */
  readonly socketBuffers?: SocketBuffers;
  /**
   * Called for each new session; may pick one of `request.protocols`, and may
   * narrow or widen `incoming` for this session. Throwing refuses the session (500).
   */
  onSession(session: ServerWebTransportSession, request: SessionRequest): undefined | SessionAnswer;
}

/** What `onSession` may answer besides accepting. */
export interface SessionAnswer {
  readonly protocol?: string;
  /** Overrides `ListenOptions.incoming` for this session. */
  readonly incoming?: Partial<IncomingPolicy>;
}

export interface WebTransportServer {
  readonly port: number;
  readonly address: HostPort;
  /** Open QUIC connections (for tests and metrics). */
  readonly connectionCount: number;
  /** What every session so far refused and dropped, and what live ones hold (for metrics). */
  readonly receiveStats: ReceiveStats;
  /** Handshakes in progress, and the Initials refused, retried or timed out so far (for metrics). */
  readonly handshakeStats: HandshakeStats;
  /** The UDP socket's kernel buffers as granted. */
  readonly socketBuffers: SocketBuffers;
  close(): Promise<void>;
}

/** A connection id as a map key: one character per byte (latin1), cheaper per packet than hex. */
const idKey = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

export async function listenWebTransport(options: ListenOptions): Promise<WebTransportServer> {
  const limits = webTransportLimits(options.limits);
  const incoming = incomingPolicy(options.incoming);
  const config = createQuicheConfig('server', limits, options.certificate);
  /** Adds up every connection's budget: the server-wide counters. */
  const receiveBudget = new ReceiveBudget(Number.POSITIVE_INFINITY);
  /** Keyed by every connection id that may appear as a packet's destination (client's first dcid, our scid). */
  const byConnectionId = new Map<string, H3OverQuic>();
  const connections = new Set<H3OverQuic>();
  const keysOf = new Map<H3OverQuic, string[]>();
  const handshakeTimers = new Map<H3OverQuic, ReturnType<typeof setTimeout>>();
  const admission = new HandshakeAdmission(options.admission);
  const retryTokens = new RetryTokens();

  const policy: AcceptPolicy = {
    paths: new Set(options.paths),
    maxSessionsPerConnection: limits.maxSessionsPerConnection,
  };

  /** Applies the accept policy to a request head: a refusal, or a session handed to the application. */
  const onHeaders = (connection: H3OverQuic, streamId: number, fields: FieldLine[]): void => {
    let head: RequestHead;
    try {
      head = parseRequestHead(fields, streamId);
    } catch (error) {
      if (!(error instanceof H3Error)) throw error;
      connection.resetRequest(streamId, error.wireCode);
      return;
    }
    const decision = decideAccept(head, policy, connection.sessionCount);
    if (decision.type === 'refuse') {
      connection.respond(streamId, decision.fields, true);
      return;
    }
    const session = new WebTransportSession(streamId, limits, incoming);
    connection.addSession(session);
    const request: SessionRequest = {
      ...decision.request,
      remoteAddress: connection.remote.host,
      remotePort: connection.remote.port,
    };
    let chosen: string | undefined;
    try {
      const answer = options.onSession(session, request);
      chosen = answer?.protocol;
      if (answer?.incoming !== undefined) session.setIncomingPolicy(incomingPolicy(answer.incoming, incoming));
    } catch {
      connection.respond(streamId, refusal(500).fields, true);
      session.close({ closeCode: 0, reason: 'refused' });
      return;
    }
    const response = acceptedResponse(request.protocols, chosen);
    connection.respond(streamId, response.fields, false);
    connection.establishSession(session, response.protocol);
  };

  const forget = (connection: H3OverQuic): void => {
    clearTimeout(handshakeTimers.get(connection));
    handshakeTimers.delete(connection);
    connections.delete(connection);
    for (const key of keysOf.get(connection) ?? []) byConnectionId.delete(key);
    keysOf.delete(connection);
  };

  const onPacket = (packet: Buffer, from: HostPort): void => {
    // Packets of known connections are routed by their DCID alone; quiche parses them in recv().
    const range = destinationConnectionIdRange(packet, CONNECTION_ID_LENGTH);
    if (range === undefined) return; // not QUIC: dropped
    const existing = byConnectionId.get(packet.toString('latin1', range.start, range.end));
    if (existing !== undefined) {
      existing.receivePacket(packet, from);
      return;
    }
    // Only a long-header Initial can open a connection (RFC 9000 §7).
    if ((packet[0] as number) < 0x80) return;
    let header: ReturnType<typeof quiche.Header.fromSlice>;
    try {
      header = quiche.Header.fromSlice(packet, CONNECTION_ID_LENGTH);
    } catch {
      return; // not QUIC: dropped
    }
    const versionSupported = quiche.versionIsSupported(header.version);
    const token = header.token ?? new Uint8Array(0);
    const odcid =
      versionSupported && token.length > 0 ? retryTokens.validate(token, header.dcid, from, Date.now()) : undefined;
    const decision = admission.decide({
      length: packet.length,
      versionSupported,
      isInitial: header.ty === quiche.Type.Initial,
      token: token.length === 0 ? 'none' : odcid === undefined ? 'invalid' : 'valid',
      sourceHost: from.host,
      connections: connections.size,
      maxConnections: limits.maxConnections,
    });
    switch (decision.action) {
      case 'drop':
        return;
      case 'version-negotiation':
        sendVersionNegotiation(header, from);
        return;
      case 'retry':
        sendRetry(header, from);
        return;
      case 'accept':
        open(packet, from, header, odcid);
    }
  };

  /** Version Negotiation (RFC 9000 §6): the versions we speak, for a client that offered another. */
  const sendVersionNegotiation = (header: QuicHeader, to: HostPort): void => {
    const out = Buffer.allocUnsafe(MAX_SEND_UDP_PAYLOAD);
    try {
      const length = quiche.negotiateVersion(header.scid, header.dcid, out);
      endpoint.send(out.subarray(0, length), to);
    } catch {
      // malformed: dropped
    }
  };

  /** A stateless Retry (RFC 9000 §8.1.2): the client comes back to `retryScid` with a token only it received. */
  const sendRetry = (header: QuicHeader, to: HostPort): void => {
    const retryScid = new Uint8Array(randomBytes(CONNECTION_ID_LENGTH));
    const token = retryTokens.mint(header.dcid, retryScid, to, Date.now());
    const out = Buffer.allocUnsafe(MAX_SEND_UDP_PAYLOAD);
    try {
      const length = quiche.retry(header.scid, header.dcid, retryScid, token, header.version, out);
      endpoint.send(out.subarray(0, length), to);
    } catch {
      // malformed: dropped
    }
  };

  /**
   * Opens a connection for an admitted Initial. After a Retry, the client's
   * destination id is the one our Retry named: it becomes our id, and `odcid`
   * (from the token) goes into the transport parameters (RFC 9000 §7.3).
   */
  const open = (packet: Buffer, from: HostPort, header: QuicHeader, odcid: Uint8Array | undefined): void => {
    const scid = odcid === undefined ? new Uint8Array(randomBytes(CONNECTION_ID_LENGTH)) : header.dcid;
    let quic: ReturnType<typeof quiche.Connection.accept>;
    try {
      quic = quiche.Connection.accept(scid, odcid ?? null, endpoint.local, from, config);
    } catch {
      return;
    }
    const handshake = admission.begin(from.host);
    const connection = new H3OverQuic({
      role: 'server',
      quic,
      local: endpoint.local,
      remote: from,
      limits,
      hooks: {
        onHeaders,
        onEstablished: handshake,
        onClosed: (closed) => {
          handshake();
          forget(closed);
        },
      },
      sendPacket: (bytes, to) => endpoint.send(bytes, to),
      serverBudget: receiveBudget,
    });
    const keys = [...new Set([idKey(header.dcid), idKey(scid)])];
    for (const key of keys) byConnectionId.set(key, connection);
    keysOf.set(connection, keys);
    connections.add(connection);
    connection.receivePacket(packet, from);
    // An Initial that did not decrypt (garbage shaped like QUIC) leaves no state behind.
    if (quic.stats().recv === 0) {
      handshake();
      connection.dispose();
      forget(connection);
      return;
    }
    // A handshake that does not finish in time is dropped: half-open connections cannot pile up.
    const timer = setTimeout(() => {
      if (connection.isEstablished || !connections.has(connection)) return;
      admission.timedOut();
      handshake();
      connection.close(H3_ERROR.H3_NO_ERROR, 'handshake timeout');
      connection.dispose();
      forget(connection);
    }, admission.limits.handshakeTimeoutMs);
    timer.unref();
    handshakeTimers.set(connection, timer);
  };

  const endpoint = await UdpEndpoint.bind(options.host, options.port, onPacket, undefined, options.socketBuffers);

  return {
    port: endpoint.local.port,
    address: endpoint.local,
    get connectionCount() {
      return connections.size;
    },
    get receiveStats() {
      return receiveBudget.stats();
    },
    socketBuffers: endpoint.buffers,
    get handshakeStats() {
      return admission.stats();
    },
    async close() {
      // Graceful: GOAWAY and session close capsules first, CONNECTION_CLOSE a moment later.
      for (const connection of connections) connection.shutdown('server closing');
      if (connections.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const connection of [...connections]) connection.close(H3_ERROR.H3_NO_ERROR, 'server closing');
      // Give CONNECTION_CLOSE a moment to leave before the socket goes.
      await new Promise((resolve) => setTimeout(resolve, 10));
      for (const connection of [...connections]) {
        connection.dispose();
        forget(connection);
      }
      await endpoint.close();
    },
  };
}
