import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import {
  type ContextOptions,
  DEFAULT_WAIT_MS,
  type TestBrowser,
  type TestContext,
  type TestPage,
  type TextOptions,
  type WaitOptions,
} from './driver.ts';
import { pageHasText } from './page-queries.ts';

/** Chromium through playwright-core. */
export async function chromiumTestBrowser(): Promise<TestBrowser> {
  const browser: Browser = await launchChromium();
  return {
    name: 'chromium',
    async newContext(options: ContextOptions = {}) {
      const context = await browser.newContext();
      if (options.grant !== undefined) {
        await context.grantPermissions([...options.grant.permissions], { origin: options.grant.origin });
      }
      if (options.initScript !== undefined) await context.addInitScript(options.initScript);
      return playwrightContext(context);
    },
    close: () => browser.close(),
  };
}

function playwrightContext(context: BrowserContext): TestContext {
  const testContext: TestContext = {
    newPage: async () => playwrightPage(await context.newPage(), testContext),
    close: () => context.close(),
  };
  return testContext;
}

function playwrightPage(page: Page, context: TestContext): TestPage {
  const first = (selector: string) => page.locator(selector).first();
  const timeout = (options?: WaitOptions) => options?.timeout ?? DEFAULT_WAIT_MS;
  return {
    context,
    goto: async (url) => void (await page.goto(url)),
    fill: (selector, value) => first(selector).fill(value),
    click: (selector) => first(selector).click(),
    check: (selector) => first(selector).check(),
    waitFor: (selector, options) => first(selector).waitFor({ state: 'visible', timeout: timeout(options) }),
    waitForText: async (selector, text, options?: TextOptions) => {
      const query = { selector, text, exact: options?.exact ?? false };
      await page.waitForFunction(pageHasText, query, { timeout: timeout(options) });
    },
    text: async (selector) => (await first(selector).textContent()) ?? '',
    texts: (selector) => page.locator(selector).allTextContents(),
    attribute: (selector, name) => first(selector).getAttribute(name),
    evaluate: (fn) => page.evaluate(fn),
    waitForFunction: async (predicate, options) => {
      await page.waitForFunction(predicate, undefined, { timeout: timeout(options) });
    },
    close: () => page.close(),
  };
}
