import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser } from '../browsers/driver.ts';
import type { BrowserLauncher } from '../browsers/launchers.ts';
import { type StaticSite, serveStatic } from '../browsers/static-site.ts';
import { bundleForBrowser } from '../bundle/browser-bundle.ts';
import { VAULT_CASES, type VaultStorage } from './vault-cases.ts';

/** The StateVault contract against a vault in this process; `fresh` makes storage no other case uses. */
export function vaultSuite(name: string, fresh: () => Promise<VaultStorage>): void {
  describe(`${name}: the StateVault contract`, () => {
    for (const vaultCase of VAULT_CASES) {
      it(vaultCase.name, async () => vaultCase.verify(await vaultCase.run(await fresh()), expect));
    }
  });
}

type PageResults = Record<string, { observed: unknown } | { error: string }>;

/**
 * The StateVault contract against the SDK's IndexedDbVault in real browsers: the
 * cases run in a page (bundled with the SDK as a web client ships it), each on
 * its own database; the verdicts are given here. The browsers start together.
 */
export function browserVaultSuites(launchers: readonly BrowserLauncher[]): void {
  const starting = new Map<string, Promise<TestBrowser>>();
  let site: Promise<StaticSite> | undefined;

  beforeAll(() => {
    site = bundleForBrowser(PAGE_SCRIPT, import.meta.dirname).then((script) =>
      serveStatic({
        '/': { type: 'text/html', body: '<!doctype html><title>vaults</title><script src="/suite.js"></script>' },
        '/suite.js': { type: 'text/javascript', body: script },
      }),
    );
    for (const launcher of launchers) {
      const browser = launcher.launch();
      browser.catch(() => {}); // reported by the suite that awaits it
      starting.set(launcher.name, browser);
    }
  });
  afterAll(async () => {
    await (await site)?.close();
    for (const browser of starting.values()) await (await browser.catch(() => undefined))?.close();
  });

  for (const launcher of launchers) {
    describe(`IndexedDbVault in ${launcher.name}: the StateVault contract`, () => {
      let results: PageResults = {};
      beforeAll(async () => {
        const browser = await (starting.get(launcher.name) as Promise<TestBrowser>);
        const page = await (await browser.newContext()).newPage();
        await page.goto((await (site as Promise<StaticSite>)).url);
        results = await page.evaluate(
          () => (globalThis as unknown as { vaultResults: Promise<PageResults> }).vaultResults,
        );
      });

      for (const vaultCase of VAULT_CASES) {
        it(vaultCase.name, () => {
          const result = results[vaultCase.name];
          if (result === undefined) throw new Error(`the page ran no case named ${vaultCase.name}`);
          if ('error' in result) throw new Error(`in ${launcher.name}: ${result.error}`);
          vaultCase.verify(result.observed, expect);
        });
      }
    });
  }
}

/** The page: every case on the SDK's IndexedDbVault, a new database for each. */
const PAGE_SCRIPT = `
  import { IndexedDbVault } from '@pulse/sdk';
  import { runVaultCases } from ${JSON.stringify(`${import.meta.dirname}/vault-cases.ts`)};
  let databases = 0;
  window.vaultResults = runVaultCases(async () => {
    const name = 'pulse-vault-suite-' + ++databases;
    return { open: () => IndexedDbVault.open(name) };
  });
`;
