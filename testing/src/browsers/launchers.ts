import type { BrowserName, TestBrowser } from './driver.ts';
import { chromiumTestBrowser } from './playwright-driver.ts';
import { firefoxTestBrowser } from './puppeteer-driver.ts';

export interface BrowserLauncher {
  readonly name: BrowserName;
  launch(): Promise<TestBrowser>;
}

/** Every browser Pulse's page tests run in: `describe.each(BROWSERS)`. */
export const BROWSERS: readonly BrowserLauncher[] = [
  { name: 'chromium', launch: chromiumTestBrowser },
  { name: 'firefox', launch: firefoxTestBrowser },
];
