import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserLauncher, type ServerProcess, spawnServer, type TestBrowser, type TestPage } from '@pulse/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from '../../cli/test/run-cli.ts';
import { ServerDatabase } from '../../sdk/test/server-database.ts';

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
  try {
    await page.waitForText(testId('messages'), text, { exact: true, timeout: 20_000 });
  } catch (error) {
    // What the user would look at: the page's own words (warnings, transport state, the chat).
    const seen = await page.evaluate(() => document.body.innerText.slice(0, 4000)).catch(() => '(page gone)');
    throw new Error(`"${text}" did not appear in ${conversation}; the page shows:\n${seen}`, { cause: error });
  }
}

/** True when the link page's QR canvas is drawn: it has both dark and light pixels. */
function qrHasDarkModules(): boolean {
  const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=link-qr]');
  const pixels = canvas?.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
  if (pixels === undefined || pixels.length === 0) return false;
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i]! < 128) dark++;
  return dark > 0 && dark < pixels.length / 4;
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
    afterEach((context) => {
      // A failed page test shows the server's warnings and errors beside the page's words.
      if (context.task.result?.state !== 'fail') return;
      const problems = server
        .output()
        .split('\n')
        .filter((line) => /"level":(40|50|60)/.test(line));
      console.error(`server warnings and errors (${server.logFile}):\n${problems.slice(-40).join('\n')}`);
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

    it('linking to an account that does not exist says so, and the page can still register', async () => {
      const hank = await openPage({ webTransport: true });
      await hank.fill(testId('link-name'), 'web-nobody');
      await hank.click(testId('link'));
      await hank.waitForText(testId('register-error'), 'Linking failed');
      await register(hank, 'web-hank');
      await hank.close();
    });

    it('a second browser links to an account by approval: contacts are told, both get messages, one is removed', async () => {
      const bobTwo = await openPage({ webTransport: true });
      await bobTwo.fill(testId('link-name'), 'web-bob');
      await bobTwo.click(testId('link'));
      await bobTwo.waitForFunction(() =>
        /^[0-9A-Z]{5}-[0-9A-Z]{5}$/.test(document.querySelector('[data-testid=link-code]')?.textContent ?? ''),
      );
      const code = await bobTwo.text(testId('link-code'));
      // The QR code is drawn (it holds the same code; a phone camera reads it).
      expect(await bobTwo.evaluate(qrHasDarkModules)).toBe(true);

      await bob.click(testId('devices'));
      await bob.waitForText(testId('pending-link'), 'asks to join as device 2');
      // A code the new device does not show approves nothing.
      await bob.fill(testId('approve-code'), (code.startsWith('2') ? '3' : '2') + code.slice(1));
      await bob.click(testId('approve-link'));
      await bob.waitForText(testId('devices-error'), 'No device asking to join shows that code');
      await bob.fill(testId('approve-code'), code);
      await bob.click(testId('approve-link'));
      await bob.waitFor(testId('device-2'));
      await bob.click(testId('dialog-close'));

      // The new browser is in: the chat opens as web-bob's device 2, and the first device saw it join.
      await bobTwo.waitFor('[data-testid=transport][data-state=connected]');
      expect(await bobTwo.text(testId('me'))).toBe('web-bob');
      await bob.waitForText(testId('warning'), 'You added a device');

      await openChat(alice, 'web-bob');
      await send(alice, 'to both of your browsers');
      await alice.waitForText(`${testId('messages')} ${testId('system-line')}`, 'web-bob added a device');
      await waitForMessage(bob, 'user:web-alice', 'to both of your browsers');
      await waitForMessage(bobTwo, 'user:web-alice', 'to both of your browsers');
      await send(bobTwo, 'from the second browser');
      await waitForMessage(alice, 'user:web-bob', 'from the second browser');

      await bob.click(testId('devices'));
      await bob.click(testId('remove-device-2'));
      await bob.waitForFunction(() => document.querySelector('[data-testid=device-2]') === null);
      await bob.click(testId('dialog-close'));
      await openChat(alice, 'web-bob');
      await send(alice, 'only the first browser now');
      await alice.waitForText(`${testId('messages')} ${testId('system-line')}`, 'web-bob removed a device');
      await waitForMessage(bob, 'user:web-alice', 'only the first browser now');
      expect(await bobTwo.texts(`${testId('messages')} .text`)).not.toContain('only the first browser now');
      await bobTwo.close();
    });

    it('a contact who registers again with a new identity: sending stops until the user accepts the new number', async () => {
      const gina = await openPage({ webTransport: true });
      await register(gina, 'web-gina');
      await openChat(alice, 'web-gina');
      await send(alice, 'hi gina');
      await waitForMessage(gina, 'user:web-alice', 'hi gina');
      await alice.click(testId('safety'));
      const before = await alice.text(testId('safety-number'));
      await alice.click(testId('dialog-close'));
      await gina.close();

      // Gina starts over: the server forgets her account, a new browser registers the name with new keys.
      const database = new ServerDatabase(server.dataDir);
      database.deleteAccount('web-gina');
      database.close();
      const newGina = await openPage({ webTransport: true });
      await register(newGina, 'web-gina');
      await openChat(newGina, 'web-alice');
      await send(newGina, 'new browser, same gina');
      await alice.waitForText(testId('warning'), 'The safety number with web-gina changed');

      await alice.click(testId('conversation-user:web-gina'));
      await send(alice, 'is that really you?');
      await alice.waitForText(testId('warning'), "Not sent: this contact's safety number changed");
      expect(await alice.texts(`${testId('messages')} .text`)).not.toContain('new browser, same gina');

      await alice.click(testId('safety'));
      await alice.waitForText(testId('safety-state'), "web-gina's safety number changed");
      const after = await alice.text(testId('safety-number'));
      expect(after).not.toBe(before);
      await newGina.click(testId('safety'));
      expect(await newGina.text(testId('safety-number'))).toBe(after);
      await newGina.click(testId('dialog-close'));
      await alice.click(testId('mark-verified'));
      await alice.waitForText(testId('safety-state'), '✓ Verified');
      await alice.click(testId('dialog-close'));

      await send(alice, 'accepted: hello again');
      await waitForMessage(newGina, 'user:web-alice', 'accepted: hello again');
      await newGina.close();
    });

    it('a second tab of the same profile is refused: it never opens the profile, the first keeps working', async () => {
      const second = await alice.context.newPage();
      await second.goto(server.baseUrl);
      await second.waitForText('body', 'already open in another tab');
      // No client in the second tab: its sessions cannot advance beside the first tab's.
      expect(await second.evaluate(() => (globalThis as { pulse?: unknown }).pulse === undefined)).toBe(true);
      expect(await second.attribute('#app', 'data-state')).toBe('locked');
      await second.close();
      await openChat(alice, 'web-bob');
      await send(alice, 'still here, one tab');
      await waitForMessage(bob, 'user:web-alice', 'still here, one tab');
    });

    it('a browser without Web Locks does not open the profile (one writer cannot be promised)', async () => {
      const context = await browser.newContext({
        initScript: () => delete (Navigator.prototype as { locks?: unknown }).locks,
      });
      const page = await context.newPage();
      await page.goto(server.baseUrl);
      await page.waitForText('body', 'cannot keep a second tab from using the same keys');
      expect(await page.evaluate(() => (globalThis as { pulse?: unknown }).pulse === undefined)).toBe(true);
      await context.close();
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
