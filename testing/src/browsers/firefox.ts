import type { Browser } from 'puppeteer-core';

/**
 * Firefox for Pulse's tests: Debian's `firefox-esr` (installed by `.ci/run`),
 * headless, driven by puppeteer-core over WebDriver BiDi (playwright-core cannot
 * drive a stock Firefox). It opens WebTransport sessions with Pulse's server using
 * `serverCertificateHashes` as it is: no flags or prefs needed for that.
 */
export const FIREFOX_PATH = process.env.PULSE_FIREFOX ?? '/usr/bin/firefox-esr';

/** Prefs for a quiet, offline test profile: no first-run pages, updates, telemetry or remote settings. */
export const FIREFOX_PREFS: Readonly<Record<string, string | number | boolean>> = {
  'app.update.disabledForTesting': true,
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'services.settings.server': 'data:,',
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
};

/** Launches headless Firefox ESR with the standard prefs plus `extraPrefs` (puppeteer-core is loaded only then). */
export async function launchFirefox(
  extraPrefs: Readonly<Record<string, string | number | boolean>> = {},
): Promise<Browser> {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...extraPrefs },
  });
}
