import { join } from 'node:path';
import { ListeningServer } from '@pulse/testing';
import { launchChromium } from '@pulse/testing/browsers';
import { createDevCertificate } from '@pulse/webtransport/node';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A real browser against the real server: Chromium loads the page the server
 * serves (its /app.js bundled by the server from test/browser/entry.ts), reads
 * /pulse/info, and speaks Pulse over its own WebTransport and WebSocket.
 */
let browser: Browser;
let server: ListeningServer;

beforeAll(async () => {
  const certificate = await createDevCertificate();
  const here = import.meta.dirname;
  server = await ListeningServer.start({
    web: { root: join(here, 'browser'), entry: join(here, 'browser', 'entry.ts') },
    certificate,
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('Chromium against the Pulse server', () => {
  it('registers over WebTransport and WebSocket and routes a channel message between them', async () => {
    const page = await browser.newPage();
    // http://localhost is a secure context, as WebTransport requires.
    await page.goto(`http://localhost:${server.httpPort}/`);
    const result = await page.evaluate(() => (globalThis as { pulseResult?: Promise<unknown> }).pulseResult);
    expect(result).toMatchObject({ payload: 'hi from ws' });
    const { wtAccount, wsAccount, from } = result as { wtAccount: string; wsAccount: string; from: string };
    expect(wtAccount).toMatch(/^wt-/);
    expect(from).toBe(wsAccount);
    const metrics = await server.node.metrics.registry.metrics();
    expect(metrics).toMatch(/pulse_connections_total\{transport="webtransport"\} 1/);
    expect(metrics).toMatch(/pulse_connections_total\{transport="websocket"\} 1/);
  });
});
