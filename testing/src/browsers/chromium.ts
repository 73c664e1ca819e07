import type { Browser } from 'playwright-core';

/**
 * Chromium for Pulse's tests: Debian's build (installed by `.ci/run` with
 * apt-get), never a downloaded one, driven by playwright-core. The flags are
 * those /work/shared/notes/webtransport-on-this-machine.md lists for running as
 * root on a machine without network: without the background-networking ones,
 * Chromium's own connection attempts are refused many at a time.
 */
export const CHROMIUM_PATH = process.env.PULSE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Chromium with the standard flags plus `extraArgs`. playwright-core
 * is loaded here, not at import: loading it takes about 2 s, which only tests that
 * launch a browser should pay.
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
