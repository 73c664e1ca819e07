import { createDevCertificate, listenWebTransport } from '@pulse/webtransport/node';
import { describe, expect, it } from 'vitest';
import { TestClient } from './helpers/client.ts';
import { startTestServer } from './helpers/server.ts';
import { webtransportDial } from './helpers/webtransport-dial.ts';
import { transportSuite } from './transport-suite.ts';

const certificate = await createDevCertificate();
const webtransport = { listen: listenWebTransport, certificate };

transportSuite('webtransport', (server) => webtransportDial(server.webtransportPort!, certificate.sha256), {
  webtransport,
});

describe('webtransport: stream framing', () => {
  it('closes with a PROTO_ error on a length prefix above max_frame_bytes, and keeps serving', async () => {
    const server = await startTestServer({ limits: { maxFrameBytes: 4096, maxMessageSize: 1024 } }, { webtransport });
    try {
      const dial = webtransportDial(server.webtransportPort!, certificate.sha256);
      const client = await TestClient.open(dial);
      // A varint announcing 1 MiB: refused from the prefix alone.
      (client.link as unknown as { sendUnframed(b: Uint8Array): void }).sendUnframed(
        new Uint8Array([0x80, 0x10, 0x00, 0x00]),
      );
      const close = await client.next('close');
      expect(close.code).toBe('PROTO_FRAME_TOO_LARGE');
      const other = await TestClient.open(dial);
      expect((await other.exchange({ type: 'ping', nonce: 3 }, 'pong')).nonce).toBe(3);
    } finally {
      await server.stop();
    }
  });

  it('advertises the WebTransport URL and certificate hash in /pulse/info', async () => {
    const server = await startTestServer({}, { webtransport });
    try {
      const info = (await (await fetch(`http://127.0.0.1:${server.httpPort}/pulse/info`)).json()) as {
        webtransport: { url: string; serverCertificateHashes: { algorithm: string; value: string }[] };
      };
      expect(info.webtransport.url).toBe(`https://127.0.0.1:${server.webtransportPort}/pulse/wt`);
      expect(info.webtransport.serverCertificateHashes).toEqual([
        { algorithm: 'sha-256', value: Buffer.from(certificate.sha256).toString('base64') },
      ]);
    } finally {
      await server.stop();
    }
  });
});
