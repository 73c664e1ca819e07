/**
 * Typing over WebTransport datagrams in Chromium (issue 14): two pages of the
 * web client chat through a real server process; what one types shows up as
 * "… is typing" on the other, and the server's counters show that the
 * indicator went up and came down in datagrams, not on the stream.
 */
import { BROWSERS, type ServerProcess, spawnServer, type TestBrowser, type TestPage } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The real server process, a real browser: generous when the machine is busy (the 2 cores are shared).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const testId = (id: string) => `[data-testid="${id}"]`;
const chromium = BROWSERS.find((launcher) => launcher.name === 'chromium')!;

let server: ServerProcess;
let browser: TestBrowser;

beforeAll(async () => {
  [server, browser] = await Promise.all([spawnServer(), chromium.launch()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function page(name: string): Promise<TestPage> {
  const opened = await (await browser.newContext()).newPage();
  await opened.goto(server.baseUrl);
  await opened.fill(testId('register-name'), name);
  await opened.click(testId('register'));
  await opened.waitFor('[data-testid=transport][data-state=connected]');
  expect(await opened.attribute(testId('transport'), 'data-transport')).toBe('webtransport');
  return opened;
}

/** `pulse_ephemeral_total` for WebTransport and `event` on the server's /metrics. */
async function ephemeralCount(event: string): Promise<number> {
  const text = await (await fetch(server.metricsUrl)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('pulse_ephemeral_total{') &&
        l.includes('transport="webtransport"') &&
        l.includes(`event="${event}"`),
    );
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('typing in headless Chromium', () => {
  it('shows on the other page, carried by WebTransport datagrams both ways', async () => {
    const [alice, bob] = await Promise.all([page('dgram-alice'), page('dgram-bob')]);
    // A session first (typing is sent only within one): a message and its answer.
    await alice.fill(testId('contact-name'), 'dgram-bob');
    await alice.click(testId('add-contact'));
    await alice.fill(testId('composer'), 'hello');
    await alice.click(testId('send'));
    await bob.click(testId('conversation-user:dgram-alice'));
    await bob.waitForText(testId('messages'), 'hello', { exact: true });
    const before = { in: await ephemeralCount('datagram_in'), out: await ephemeralCount('datagram_out') };

    await alice.fill(testId('composer'), 'typing something');
    await bob.waitForText(testId('typing'), 'dgram-alice is typing');

    expect(await ephemeralCount('datagram_in')).toBeGreaterThan(before.in);
    expect(await ephemeralCount('datagram_out')).toBeGreaterThan(before.out);
    expect(await ephemeralCount('datagram_too_large')).toBe(0);
  });
});
