import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserLauncher, type ServerProcess, spawnServer, type TestBrowser, type TestPage } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from '../../cli/test/run-cli.ts';

const testId = (id: string) => `[data-testid="${id}"]`;

async function register(page: TestPage, name: string): Promise<void> {
  await page.fill(testId('register-name'), name);
  await page.click(testId('register'));
  await page.waitFor('[data-testid=transport][data-state=connected]', { timeout: 20_000 });
  expect(await page.text(testId('me'))).toBe(name);
}

/** The transport the page says it uses (the SDK's connection status). */
function transportOf(page: TestPage): Promise<string | null> {
  return page.attribute(testId('transport'), 'data-transport');
}

async function openChat(page: TestPage, name: string): Promise<void> {
  await page.fill(testId('contact-name'), name);
  await page.click(testId('add-contact'));
}

async function send(page: TestPage, text: string): Promise<void> {
  await page.fill(testId('composer'), text);
  await page.click(testId('send'));
}

async function waitForMessage(page: TestPage, conversation: string, text: string): Promise<void> {
  await page.click(testId(`conversation-${conversation}`));
  await page.waitForText(testId('messages'), text, { exact: true, timeout: 20_000 });
}

const notificationsShown = () =>
  (globalThis as { shownNotifications?: { title: string; body?: string }[] }).shownNotifications;

/**
 * The web client's page tests, run once per browser (browser-chromium.test.ts,
 * browser-firefox.test.ts: one file each, so the two browsers run in parallel), each
 * against its own real server process.
 */
export function webClientSuite(launcher: BrowserLauncher): void {
  describe(`the web page in headless ${launcher.name}`, () => {
    let server: ServerProcess;
    let browser: TestBrowser;
    const profiles = mkdtempSync(join(tmpdir(), 'pulse-web-cli-'));
    let alice: TestPage;
    let bob: TestPage;
    let carol: TestPage;

    beforeAll(async () => {
      [server, browser] = await Promise.all([spawnServer(), launcher.launch()]);
    });
    afterAll(async () => {
      await browser?.close();
      await server?.stop();
    });

    async function openPage(options: { webTransport: boolean }): Promise<TestPage> {
      const context = await browser.newContext(
        // As in a browser (or network) without WebTransport: the page must fall back to WebSocket.
        options.webTransport
          ? {}
          : { initScript: () => delete (globalThis as { WebTransport?: unknown }).WebTransport },
      );
      const page = await context.newPage();
      await page.goto(server.baseUrl);
      return page;
    }

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
      const bobSees = await bob.texts(`${testId('messages')} .text`);
      expect(bobSees).toEqual(['Hello Bob, from a browser', 'Hi Alice!', 'first of two', 'second of two']);
      // Alice's first message was delivered to Bob's device: two ticks.
      await alice.waitFor('[data-testid=message][data-status=delivered]', { timeout: 10_000 });
      // Bob is online, as presence says.
      await alice.waitFor('[data-testid="presence-web-bob"][data-online=true]', { timeout: 10_000 });
    });

    it('the safety-number screen shows the same number on both sides', async () => {
      await alice.click(testId('safety'));
      const fromAlice = await alice.text(testId('safety-number'));
      await bob.click(testId('safety'));
      const fromBob = await bob.text(testId('safety-number'));
      expect(fromAlice).toMatch(/^(\d{5} ){11}\d{5}$/);
      expect(fromAlice).toBe(fromBob);
      await alice.click(testId('mark-verified'));
      await alice.waitForText(testId('safety-state'), '✓ Verified');
      await alice.click(testId('dialog-close'));
      await bob.click(testId('dialog-close'));
    });

    it('a page without WebTransport joins over WebSocket, and a CLI user joins the same group chat', async () => {
      carol = await openPage({ webTransport: false });
      await register(carol, 'web-carol');
      expect(await transportOf(carol)).toBe('websocket');
      const dave = ['--server', server.baseUrl, '--profile', join(profiles, 'dave')];
      expect((await runCli([...dave, 'register', 'cli-dave'])).code).toBe(0);

      await alice.click(testId('new-group'));
      await alice.fill(testId('group-name'), 'lunch');
      await alice.fill(testId('group-members'), 'web-bob, web-carol, cli-dave');
      await alice.click(testId('create-group'));
      await alice.waitForText(testId('chat-title'), '# lunch');
      await send(alice, 'Noodles at noon?');

      const groupId = await alice.evaluate(
        () =>
          (globalThis as { pulse?: { findGroup(n: string): { id: string } | undefined } }).pulse?.findGroup('lunch')
            ?.id,
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
      const context = await browser.newContext({
        grant: { origin: server.baseUrl, permissions: ['notifications'] },
        initScript: () => {
          // The page is in the background; record what it asks the system to show.
          Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
          const shown: { title: string; body: string | undefined }[] = [];
          (globalThis as { shownNotifications?: typeof shown }).shownNotifications = shown;
          ServiceWorkerRegistration.prototype.showNotification = async (
            title: string,
            options?: NotificationOptions,
          ) => {
            shown.push({ title, body: options?.body });
          };
        },
      });
      const erin = await context.newPage();
      await erin.goto(server.baseUrl);
      await register(erin, 'web-erin');
      await erin.evaluate(async () => {
        await navigator.serviceWorker.ready;
        return true;
      });

      await openChat(alice, 'web-erin');
      await send(alice, 'the secret plan');
      await erin.waitForFunction(
        () => ((globalThis as { shownNotifications?: unknown[] }).shownNotifications?.length ?? 0) >= 1,
      );
      expect(await erin.evaluate(notificationsShown)).toEqual([{ title: 'web-alice', body: 'New encrypted message' }]);

      await erin.check(testId('notification-preview'));
      await send(alice, 'a harmless hello');
      await erin.waitForFunction(
        () => ((globalThis as { shownNotifications?: unknown[] }).shownNotifications?.length ?? 0) >= 2,
      );
      expect((await erin.evaluate(notificationsShown))?.[1]).toEqual({ title: 'web-alice', body: 'a harmless hello' });
    });

    it('a taken name is explained, and another one can be tried at once', async () => {
      const frank = await openPage({ webTransport: true });
      await frank.fill(testId('register-name'), 'web-alice');
      await frank.click(testId('register'));
      await frank.waitForText(testId('register-error'), 'That name is taken');
      await register(frank, 'web-frank');
    });

    it('a second tab of the same profile is refused instead of corrupting sessions', async () => {
      const second = await alice.context.newPage();
      await second.goto(server.baseUrl);
      await second.waitForText('body', 'already open in another tab');
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
}
