/**
 * A real browser: Debian's Chromium, driven by playwright-core, opens
 * `new WebTransport(url, { serverCertificateHashes })` to the echo server,
 * echoes a bidirectional stream, a unidirectional stream and a datagram, picks a
 * protocol, and closes with a code and reason the server sees. The package's
 * browser-safe main entry, bundled, also runs in the page.
 */
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser, launchChromium } from '@pulse/testing/browsers';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EchoServer, readAll, startEchoServer } from './echo-server.ts';

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
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await echo?.close();
  await new Promise((resolve) => page?.close(resolve));
});

describe('Chromium WebTransport against the echo server', () => {
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

  it('carries a server-opened stream, a stream reset code from the browser, and a server close', async () => {
    const seen: { resetCode?: number | null } = {};
    const custom = await startEchoServer({
      onSession(session) {
        void (async () => {
          // Server → browser: a bidi stream the browser echoes back.
          const stream = await session.createBidirectionalStream();
          const writer = stream.writable.getWriter();
          await writer.write(new TextEncoder().encode('from the server'));
          await writer.close();
          const echoed = await readAll(stream.readable);
          // Browser → server: a stream the browser resets with code 77.
          const incoming = await session.incomingBidirectionalStreams.getReader().read();
          const reader = (incoming.value as { readable: ReadableStream<Uint8Array> }).readable.getReader();
          try {
            while (!(await reader.read()).done) {}
          } catch (error) {
            seen.resetCode = (error as { streamErrorCode: number | null }).streamErrorCode;
          }
          session.close({ closeCode: 3003, reason: `server got "${new TextDecoder().decode(echoed)}"` });
        })().catch(() => {});
      },
    });
    try {
      const tab = await browser.newPage();
      await tab.goto(pageUrl);
      const result = await tab.evaluate(
        async ({ url, hash }) => {
          const transport = new WebTransport(url, {
            serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(hash) }],
          });
          await transport.ready;
          const { value: stream } = await transport.incomingBidirectionalStreams.getReader().read();
          const incoming = stream as WebTransportBidirectionalStream;
          let text = '';
          const reader = incoming.readable.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            text += new TextDecoder().decode(value);
          }
          const writer = incoming.writable.getWriter();
          await writer.write(new TextEncoder().encode(text.toUpperCase()));
          await writer.close();
          const mine = await transport.createBidirectionalStream();
          const myWriter = mine.writable.getWriter();
          await myWriter.write(new Uint8Array([1]));
          await myWriter.abort(new WebTransportError({ message: 'bye stream', streamErrorCode: 77 } as never));
          const closed = await transport.closed;
          return { text, closed };
        },
        { url: custom.url(), hash: [...custom.certificate.sha256] },
      );
      expect(result.text).toBe('from the server');
      expect(result.closed).toEqual({ closeCode: 3003, reason: 'server got "FROM THE SERVER"' });
      expect(seen.resetCode).toBe(77);
      await tab.close();
    } finally {
      await custom.close();
    }
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

  it('runs the main entry in the page: structured fields (structured-headers) and the accept policy bundle for the browser', async () => {
    // Bundled as a web client would ship it (esbuild's browser platform fails on any node: import it reaches).
    const entry = `
      import * as wt from '@pulse/webtransport';
      const head = wt.parseRequestHead([
        { name: ':method', value: 'CONNECT' },
        { name: ':protocol', value: 'webtransport' },
        { name: ':scheme', value: 'https' },
        { name: ':authority', value: 'example.org' },
        { name: ':path', value: '/echo' },
        { name: 'wt-available-protocols', value: wt.serializeAvailableProtocols(['chat-v2', 'chat-v1']) },
      ], 0);
      const decision = wt.decideAccept(head, { paths: new Set(['/echo']), maxSessionsPerConnection: 1 }, 0);
      const response = wt.acceptedResponse(decision.request.protocols, 'chat-v1');
      window.result = {
        protocols: decision.request.protocols,
        selected: wt.parseSelectedProtocol(response.fields.find((field) => field.name === 'wt-protocol').value),
        ignored: wt.parseAvailableProtocols('chat-v2, ("chat-v1")'),
      };
    `;
    const script = await bundleForBrowser(entry, fileURLToPath(new URL('../../..', import.meta.url)));
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(error.message));
    await tab.goto(pageUrl);
    await tab.addScriptTag({ content: script });
    const result = await tab.evaluate(() => (window as unknown as { result: unknown }).result);
    expect(errors).toEqual([]);
    expect(result).toEqual({ protocols: ['chat-v2', 'chat-v1'], selected: 'chat-v1', ignored: [] });
    await tab.close();
  });
});
