import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { launchChromium } from '../../../scripts/testing/chromium.ts';
import { jsonLines, runCli } from '../../cli/test/run-cli.ts';
import { type RunningServer, startServer } from '../../test/helpers/server.ts';

// Real servers, real processes: generous when the machine is busy (the 2 cores are shared).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const profiles = mkdtempSync(join(tmpdir(), 'pulse-web-cli-'));

beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium(); // Debian's Chromium, the flags every Pulse browser test uses
});
afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await server?.stop();
});

async function openPage(options: { webTransport: boolean }): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  if (!options.webTransport) {
    // As in a browser (or network) without WebTransport: the page must fall back to WebSocket.
    await context.addInitScript(() => {
      delete (globalThis as { WebTransport?: unknown }).WebTransport;
    });
  }
  const page = await context.newPage();
  await page.goto(server.baseUrl);
  return page;
}

async function register(page: Page, name: string): Promise<void> {
  await page.getByTestId('register-name').fill(name);
  await page.getByTestId('register').click();
  await page.locator('[data-testid=transport][data-state=connected]').waitFor({ timeout: 20_000 });
  await expect(page.getByTestId('me').textContent()).resolves.toBe(name);
}

async function transportOf(page: Page): Promise<string | null> {
  return page.getByTestId('transport').getAttribute('data-transport');
}

async function openChat(page: Page, name: string): Promise<void> {
  await page.getByTestId('contact-name').fill(name);
  await page.getByTestId('add-contact').click();
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('send').click();
}

async function waitForMessage(page: Page, conversation: string, text: string): Promise<void> {
  await page.getByTestId(`conversation-${conversation}`).click();
  await page.getByTestId('messages').getByText(text, { exact: true }).waitFor({ timeout: 20_000 });
}

describe('the web page in headless Chromium', () => {
  let alice: Page;
  let bob: Page;
  let carol: Page;

  it('two pages register and chat over WebTransport', async () => {
    [alice, bob] = await Promise.all([openPage({ webTransport: true }), openPage({ webTransport: true })]);
    await register(alice, 'web-alice');
    await register(bob, 'web-bob');
    expect(await transportOf(alice)).toBe('webtransport');
    expect(await transportOf(bob)).toBe('webtransport');

    await openChat(alice, 'web-bob');
    await send(alice, 'Hello Bob, from a browser');
    await waitForMessage(bob, 'user:web-alice', 'Hello Bob, from a browser');
    await send(bob, 'Hi Alice!');
    await waitForMessage(alice, 'user:web-bob', 'Hi Alice!');
    // Typing on while messages arrive and are sent: nothing typed is lost.
    await send(alice, 'first of two');
    await send(alice, 'second of two');
    await waitForMessage(bob, 'user:web-alice', 'second of two');
    const bobSees = await bob.getByTestId('messages').locator('.text').allTextContents();
    expect(bobSees).toEqual(['Hello Bob, from a browser', 'Hi Alice!', 'first of two', 'second of two']);
    // Alice's first message was delivered to Bob's device: two ticks.
    await alice.locator('[data-testid=message][data-status=delivered]').first().waitFor({ timeout: 10_000 });
    // Bob is online, as presence says.
    await alice.locator('[data-testid="presence-web-bob"][data-online=true]').waitFor({ timeout: 10_000 });
  });

  it('the safety-number screen shows the same number on both sides', async () => {
    await alice.getByTestId('safety').click();
    const fromAlice = await alice.getByTestId('safety-number').textContent();
    await bob.getByTestId('safety').click();
    const fromBob = await bob.getByTestId('safety-number').textContent();
    expect(fromAlice).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(fromAlice).toBe(fromBob);
    await alice.getByTestId('mark-verified').click();
    await alice.getByTestId('safety-state').getByText('✓ Verified').waitFor();
    await alice.getByTestId('dialog-close').click();
    await bob.getByTestId('dialog-close').click();
  });

  it('a page without WebTransport joins over WebSocket, and a CLI user joins the same group chat', async () => {
    carol = await openPage({ webTransport: false });
    await register(carol, 'web-carol');
    expect(await transportOf(carol)).toBe('websocket');
    const dave = ['--server', server.baseUrl, '--profile', join(profiles, 'dave')];
    expect((await runCli([...dave, 'register', 'cli-dave'])).code).toBe(0);

    await alice.getByTestId('new-group').click();
    await alice.getByTestId('group-name').fill('lunch');
    await alice.getByTestId('group-members').fill('web-bob, web-carol, cli-dave');
    await alice.getByTestId('create-group').click();
    await alice.getByTestId('chat-title').getByText('# lunch').waitFor();
    await send(alice, 'Noodles at noon?');

    const groupId = await alice.evaluate(
      () =>
        (globalThis as { pulse?: { findGroup(n: string): { id: string } | undefined } }).pulse?.findGroup('lunch')?.id,
    );
    expect(groupId).toMatch(/^[0-9a-f]{32}$/);
    await waitForMessage(bob, `group:${groupId}`, 'Noodles at noon?');
    await waitForMessage(carol, `group:${groupId}`, 'Noodles at noon?');
    const daveInbox = await runCli([...dave, 'recv', '--json']);
    expect(jsonLines(daveInbox.stdout)).toMatchObject([
      { sender: 'web-alice', text: 'Noodles at noon?', group: 'lunch' },
    ]);

    await send(carol, 'Yes, over WebSocket');
    expect((await runCli([...dave, 'group', 'send', 'lunch', 'count me in, from the terminal'])).code).toBe(0);
    for (const page of [alice, bob]) {
      await waitForMessage(page, `group:${groupId}`, 'Yes, over WebSocket');
      await waitForMessage(page, `group:${groupId}`, 'count me in, from the terminal');
    }
    await waitForMessage(carol, `group:${groupId}`, 'count me in, from the terminal');
    const daveLater = await runCli([...dave, 'recv', '--json']);
    expect(jsonLines(daveLater.stdout).map((m) => m.text)).toEqual(['Yes, over WebSocket']);
  });

  it('a background page notifies without the text, unless the user allows previews', async () => {
    const context = await browser.newContext({ permissions: ['notifications'] });
    contexts.push(context);
    await context.addInitScript(() => {
      // The page is in the background; record what it asks the system to show.
      Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
      const shown: { title: string; body: string | undefined }[] = [];
      (globalThis as { shownNotifications?: typeof shown }).shownNotifications = shown;
      ServiceWorkerRegistration.prototype.showNotification = async (title: string, options?: NotificationOptions) => {
        shown.push({ title, body: options?.body });
      };
    });
    const erin = await context.newPage();
    await erin.goto(server.baseUrl);
    await register(erin, 'web-erin');
    await erin.evaluate(() => navigator.serviceWorker.ready);
    const shown = () =>
      erin.evaluate(
        () => (globalThis as { shownNotifications?: { title: string; body?: string }[] }).shownNotifications,
      );

    await openChat(alice, 'web-erin');
    await send(alice, 'the secret plan');
    await erin.waitForFunction(
      () => ((globalThis as { shownNotifications?: unknown[] }).shownNotifications?.length ?? 0) >= 1,
    );
    expect(await shown()).toEqual([{ title: 'web-alice', body: 'New encrypted message' }]);

    await erin.getByTestId('notification-preview').check();
    await send(alice, 'a harmless hello');
    await erin.waitForFunction(
      () => ((globalThis as { shownNotifications?: unknown[] }).shownNotifications?.length ?? 0) >= 2,
    );
    expect((await shown())?.[1]).toEqual({ title: 'web-alice', body: 'a harmless hello' });
  });

  it('a taken name is explained, and another one can be tried at once', async () => {
    const frank = await openPage({ webTransport: true });
    await frank.getByTestId('register-name').fill('web-alice');
    await frank.getByTestId('register').click();
    await frank.getByTestId('register-error').getByText('That name is taken').waitFor();
    await register(frank, 'web-frank');
  });

  it('a second tab of the same profile is refused instead of corrupting sessions', async () => {
    const second = await alice.context().newPage();
    await second.goto(server.baseUrl);
    await second.getByText('already open in another tab').waitFor();
    await second.close();
  });

  it('is installable: manifest and service worker', async () => {
    const manifest = await (await fetch(`${server.baseUrl}/manifest.webmanifest`)).json();
    expect(manifest).toMatchObject({ name: 'Pulse', start_url: '/', display: 'standalone' });
    const registered = await alice.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return registration.active?.scriptURL ?? null;
    });
    expect(registered).toBe(`${server.baseUrl}/sw.js`);
  });
});
