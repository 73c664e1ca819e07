import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';

/**
 * The one way Pulse's tests start a browser: Debian's Chromium (installed by
 * `.ci/run` with apt-get), never a downloaded build, driven by playwright-core.
 * The flags are those ../shared/notes/webtransport-on-this-machine.md lists for
 * running as root on a machine without network: without the background-networking
 * ones, Chromium's own connection attempts are refused many at a time.
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

/** Launches headless Chromium with the standard flags plus `extraArgs`. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * Bundles `source` (ES module text importing workspace packages) for the browser as
 * one classic script, the way a web client would ship it. esbuild's browser
 * platform fails on any `node:` import the source reaches.
 */
export async function bundleForBrowser(source: string, resolveDir: string): Promise<string> {
  const result = await build({
    stdin: { contents: source, resolveDir, loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}
