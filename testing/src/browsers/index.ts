/**
 * @pulse/testing/browsers: the one way Pulse's tests start browsers. Lower
 * layers' tests import this entry alone (it loads no Pulse package).
 */
export { bundleForBrowser } from '../bundle/browser-bundle.ts';
export { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium } from './chromium.ts';
export type {
  BrowserName,
  ContextOptions,
  TestBrowser,
  TestContext,
  TestPage,
  TextOptions,
  WaitOptions,
} from './driver.ts';
export { FIREFOX_PATH, FIREFOX_PREFS, launchFirefox } from './firefox.ts';
export { BROWSERS, type BrowserLauncher } from './launchers.ts';
export { chromiumTestBrowser } from './playwright-driver.ts';
export { firefoxTestBrowser } from './puppeteer-driver.ts';
