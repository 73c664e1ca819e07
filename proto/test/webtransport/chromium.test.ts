/**
 * A real browser: Debian's Chromium, driven by playwright-core, opens
 * `new WebTransport(url, { serverCertificateHashes })` to the Pulse server,
 * echoes a bidirectional stream, a unidirectional stream and a datagram, picks a
 * protocol, and closes with a code and reason the server sees.
 */
import { createServer, type Server } from 'node:http';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EchoServer, startEchoServer } from './echo-server.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
let echo: EchoServer;
let page: Server;
let pageUrl: string;

beforeAll(async () => {
  echo = await startEchoServer();
  // WebTransport needs a secure context: http://localhost is one.
  page = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>pulse</title>');
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  const address = page.address();
  pageUrl = `http://localhost:${typeof address === 'object' && address ? address.port : 0}/`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await echo?.close();
  await new Promise((resolve) => page?.close(resolve));
});

describe('Chromium WebTransport against the Pulse server', () => {
  it('echoes a bidi stream, a uni stream and a datagram, then closes with a code and reason', async () => {
    const tab = await browser.newPage();
    await tab.goto(pageUrl);
    const result = await tab.evaluate(
      async ({ url, hash }) => {
        const encoder = new TextEncoder();
        const decoder = new TextDecoder();
        const readAll = async (readable: ReadableStream<Uint8Array>) => {
          let text = '';
          const reader = readable.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return text;
            text += decoder.decode(value, { stream: true });
          }
        };
        const transport = new WebTransport(url, {
          serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(hash) }],
          protocols: ['pulse-v1', 'other'],
        } as WebTransportOptions);
        await transport.ready;

        const bidi = await transport.createBidirectionalStream();
        const bidiWriter = bidi.writable.getWriter();
        await bidiWriter.write(encoder.encode('bidi from chromium'));
        await bidiWriter.close();
        const bidiEcho = await readAll(bidi.readable);

        const uni = await transport.createUnidirectionalStream();
        const uniWriter = uni.getWriter();
        await uniWriter.write(encoder.encode('uni from chromium'));
        await uniWriter.close();
        const incoming = transport.incomingUnidirectionalStreams.getReader();
        const { value: reply } = await incoming.read();
        const uniEcho = await readAll(reply as ReadableStream<Uint8Array>);

        // Datagrams are unreliable: resend until one comes back.
        const datagramWriter = transport.datagrams.writable.getWriter();
        const datagramReader = transport.datagrams.readable.getReader();
        let datagramEcho = '';
        for (let attempt = 0; attempt < 20 && datagramEcho === ''; attempt++) {
          await datagramWriter.write(encoder.encode('datagram from chromium'));
          const received = await Promise.race([
            datagramReader.read(),
            new Promise<undefined>((resolve) => setTimeout(resolve, 250)),
          ]);
          if (received?.value) datagramEcho = decoder.decode(received.value);
        }
        const protocol = (transport as unknown as { protocol: string }).protocol;
        transport.close({ closeCode: 4001, reason: 'done from chromium' });
        const closed = await transport.closed;
        return { bidiEcho, uniEcho, datagramEcho, protocol, closed };
      },
      { url: echo.url(), hash: [...echo.certificate.sha256] },
    );
    expect(result.bidiEcho).toBe('bidi from chromium');
    expect(result.uniEcho).toBe('uni from chromium');
    expect(result.datagramEcho).toBe('datagram from chromium');
    expect(result.protocol).toBe('pulse-v1');
    await echo.closedSessions(1);
    expect(echo.closes[0]).toEqual({ closeCode: 4001, reason: 'done from chromium' });
    await tab.close();
  });

  it('refuses a session on an unregistered path', async () => {
    const tab = await browser.newPage();
    await tab.goto(pageUrl);
    const outcome = await tab.evaluate(
      async ({ url, hash }) => {
        const transport = new WebTransport(url, {
          serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(hash) }],
        });
        try {
          await transport.ready;
          return 'ready';
        } catch (error) {
          return (error as Error).name;
        }
      },
      { url: echo.url('/nope'), hash: [...echo.certificate.sha256] },
    );
    expect(outcome).toBe('WebTransportError');
    await tab.close();
  });
});
