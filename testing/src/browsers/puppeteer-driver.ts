import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import {
  type ContextOptions,
  DEFAULT_WAIT_MS,
  type TestBrowser,
  type TestContext,
  type TestPage,
  type TextOptions,
  type WaitOptions,
} from './driver.ts';
import { launchFirefox } from './firefox.ts';
import { pageHasText } from './page-queries.ts';

/** Firefox through puppeteer-core over WebDriver BiDi. */
export async function firefoxTestBrowser(): Promise<TestBrowser> {
  const browser: Browser = await launchFirefox();
  return {
    name: 'firefox',
    async newContext(options: ContextOptions = {}) {
      const context = await browser.createBrowserContext();
      if (options.grant !== undefined) {
        await context.overridePermissions(options.grant.origin, [...options.grant.permissions]);
      }
      return puppeteerContext(context, options);
    },
    close: () => browser.close(),
  };
}

function puppeteerContext(context: BrowserContext, options: ContextOptions): TestContext {
  const testContext: TestContext = {
    newPage: async () => {
      // A window of its own, as Chromium gives each page: a background tab would be hidden and throttled.
      const page = await context.newPage({ type: 'window' });
      // puppeteer has no context-wide init script: every page of the context gets it.
      if (options.initScript !== undefined) await page.evaluateOnNewDocument(options.initScript);
      return puppeteerPage(page, testContext);
    },
    close: () => context.close(),
  };
  return testContext;
}

function puppeteerPage(page: Page, context: TestContext): TestPage {
  const timeout = (options?: WaitOptions) => options?.timeout ?? DEFAULT_WAIT_MS;
  const present = async (selector: string) => {
    await page.waitForSelector(selector, { timeout: DEFAULT_WAIT_MS });
  };
  // Visible, enabled and scrolled into view before a real click; waiting for the box to stay still
  // over animation frames costs about 150 ms a click over BiDi, and the pages do not animate.
  const locate = (selector: string) =>
    page.locator(selector).setTimeout(DEFAULT_WAIT_MS).setWaitForStableBoundingBox(false);
  return {
    context,
    goto: async (url) => void (await page.goto(url)),
    fill: async (selector, value) => {
      const input = await page.waitForSelector(selector, { visible: true, timeout: DEFAULT_WAIT_MS });
      if (input === null) throw new Error(`no ${selector} to fill`);
      // As playwright's fill: the browser's editor replaces the whole value in one insertText
      // (trusted beforeinput and input events), instead of puppeteer typing key by key.
      await input.evaluate((element, text) => {
        const field = element as HTMLInputElement;
        field.focus();
        field.select();
        document.execCommand(text === '' ? 'delete' : 'insertText', false, text);
      }, value);
      await input.dispose();
    },
    click: (selector) => locate(selector).click(),
    check: async (selector) => {
      await present(selector);
      if (!(await page.$eval(selector, (element) => (element as HTMLInputElement).checked))) {
        await locate(selector).click();
      }
    },
    waitFor: async (selector, options) => {
      await page.waitForSelector(selector, { visible: true, timeout: timeout(options) });
    },
    waitForText: async (selector, text, options?: TextOptions) => {
      const query = { selector, text, exact: options?.exact ?? false };
      await page.waitForFunction(pageHasText, { timeout: timeout(options) }, query);
    },
    text: async (selector) => {
      await present(selector);
      return page.$eval(selector, (element) => element.textContent ?? '');
    },
    texts: (selector) => page.$$eval(selector, (elements) => elements.map((element) => element.textContent ?? '')),
    attribute: async (selector, name) => {
      await present(selector);
      return page.$eval(selector, (element, attribute) => element.getAttribute(attribute), name);
    },
    evaluate: (fn) => page.evaluate(fn),
    waitForFunction: async (predicate, options) => {
      await page.waitForFunction(predicate, { timeout: timeout(options) });
    },
    close: () => page.close(),
  };
}
