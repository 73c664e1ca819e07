/**
 * A WebTransport echo server used by the integration tests: bidi streams are
 * piped back, each incoming uni stream is answered on a new server uni stream,
 * datagrams are echoed, and every session's close outcome is recorded.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AdmissionLimits,
  type DevCertificate,
  type IncomingPolicy,
  listenWebTransport,
  loadOrCreateDevCertificate,
  type ServerWebTransportSession,
  type SessionRequest,
  type WebTransportCloseInfo,
  type WebTransportLimits,
  type WebTransportServer,
} from '../../src/node/index.ts';

export interface EchoServer {
  readonly server: WebTransportServer;
  readonly certificate: DevCertificate;
  readonly url: (path?: string) => string;
  /** Close outcomes of finished sessions, in order. */
  readonly closes: (WebTransportCloseInfo | { error: string })[];
  readonly sessions: ServerWebTransportSession[];
  /** Resolves when `count` sessions have closed. */
  closedSessions(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of readable) chunks.push(chunk);
  return Buffer.concat(chunks);
}

let certificate: Promise<DevCertificate> | undefined;

export function testCertificate(): Promise<DevCertificate> {
  certificate ??= mkdtemp(join(tmpdir(), 'pulse-wt-')).then((dir) => loadOrCreateDevCertificate(dir));
  return certificate;
}

export async function startEchoServer(
  options: {
    host?: string;
    limits?: Partial<WebTransportLimits>;
    admission?: Partial<AdmissionLimits>;
    incoming?: Partial<IncomingPolicy>;
    onSession?: (s: ServerWebTransportSession) => void;
    onRequest?: (request: SessionRequest) => void;
  } = {},
): Promise<EchoServer> {
  const cert = await testCertificate();
  const closes: EchoServer['closes'] = [];
  const sessions: ServerWebTransportSession[] = [];
  const waiters: { count: number; resolve(): void }[] = [];
  const settle = () => {
    for (const waiter of waiters) if (closes.length >= waiter.count) waiter.resolve();
  };
  const host = options.host ?? '127.0.0.1';
  const server = await listenWebTransport({
    host,
    port: 0,
    certificate: cert,
    paths: ['/echo'],
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.admission ? { admission: options.admission } : {}),
    ...(options.incoming ? { incoming: options.incoming } : {}),
    onSession(session, request) {
      options.onRequest?.(request);
      sessions.push(session);
      session.closed
        .then(
          (info) => closes.push(info),
          (error: Error) => closes.push({ error: error.message }),
        )
        .finally(settle);
      if (options.onSession) {
        options.onSession(session);
      } else {
        void echo(session);
      }
      return request.protocols.length > 0 ? { protocol: request.protocols[0] as string } : undefined;
    },
  });
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    certificate: cert,
    url: (path = '/echo') => `https://${urlHost}:${server.port}${path}`,
    closes,
    sessions,
    closedSessions: (count) =>
      new Promise<void>((resolve) => {
        waiters.push({ count, resolve });
        settle();
      }),
    close: () => server.close(),
  };
}

async function echo(session: ServerWebTransportSession): Promise<void> {
  const ignore = () => {};
  (async () => {
    for await (const stream of session.incomingBidirectionalStreams)
      stream.readable.pipeTo(stream.writable).catch(ignore);
  })().catch(ignore);
  (async () => {
    for await (const readable of session.incomingUnidirectionalStreams) {
      (async () => {
        const data = await readAll(readable);
        const reply = await session.createUnidirectionalStream();
        const writer = reply.getWriter();
        await writer.write(data);
        await writer.close();
      })().catch(ignore);
    }
  })().catch(ignore);
  (async () => {
    const writer = session.datagrams.writable.getWriter();
    for await (const datagram of session.datagrams.readable) await writer.write(datagram);
  })().catch(ignore);
}
