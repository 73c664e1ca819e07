import { dialWebTransport, FrameClient, ListeningServer, type ListeningServerOptions } from '@pulse/testing';
import { createDevCertificate } from '@pulse/webtransport/node';
import { describe, expect, it } from 'vitest';
import { withServer as withTestServer } from '../helpers/with-server.ts';
import { conformanceSuite } from './conformance-suite.ts';

const certificate = await createDevCertificate();

conformanceSuite({
  transport: 'webtransport',
  networked: true,
  async start(options) {
    const server = await ListeningServer.start({ ...options, certificate });
    return {
      node: server.node,
      open: dialWebTransport(server.webtransportUrl, certificate.sha256),
      stop: () => server.stop(),
    };
  },
});

/** A WebTransport server started with `options`, stopped after `body`. */
const withServer = (options: ListeningServerOptions, body: (server: ListeningServer) => Promise<void>) =>
  withTestServer(() => ListeningServer.start({ ...options, certificate }), body);

describe('webtransport: stream framing', () => {
  it('closes with a PROTO_ error on a length prefix above max_frame_bytes, and keeps serving', async () => {
    await withServer({ limits: { maxFrameBytes: 4096, maxMessageSize: 1024 } }, async (server) => {
      const open = dialWebTransport(server.webtransportUrl, certificate.sha256);
      const client = await FrameClient.connect(open);
      // A varint announcing 1 MiB: refused from the prefix alone.
      client.transport.sendUnframed(new Uint8Array([0x80, 0x10, 0x00, 0x00]));
      const close = await client.next('close');
      expect(close.code).toBe('PROTO_FRAME_TOO_LARGE');
      const other = await FrameClient.connect(open);
      expect((await other.exchange({ type: 'ping', nonce: 3 }, 'pong')).nonce).toBe(3);
    });
  });

  it('advertises the WebTransport URL and certificate hash in /pulse/info', async () => {
    await withServer({}, async (server) => {
      const info = (await (await fetch(`${server.baseUrl}/pulse/info`)).json()) as {
        webtransport: { url: string; serverCertificateHashes: { algorithm: string; value: string }[] };
      };
      expect(info.webtransport.url).toBe(server.webtransportUrl);
      expect(info.webtransport.serverCertificateHashes).toEqual([
        { algorithm: 'sha-256', value: Buffer.from(certificate.sha256).toString('base64') },
      ]);
    });
  });
});
