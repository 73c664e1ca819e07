import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser, launchChromium } from '@pulse/testing/browsers';
import { importsOf, sourceFiles } from '@pulse/testing/source';
import { describe, expect, it } from 'vitest';

/**
 * The workspace's architecture rules, checked on the sources:
 * - imports run one way: server and clients import proto, webtransport and crypto,
 *   never the reverse, and those three import none of each other (webtransport
 *   knows nothing of Pulse);
 * - their main entry points run unchanged in a browser. Node-only code lives in
 *   files the main entries never reach: `@pulse/webtransport/node`
 *   (webtransport/src/node/) and files named `node.ts` (e.g. crypto's node:crypto
 *   fast path); the browser bundle below proves the main entries do not reach them.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The layers, lowest first: which workspace packages each package's sources may
 * import. proto, webtransport and crypto are leaves (webtransport knows nothing of
 * Pulse); nothing imports the server or a client it is not built on; @pulse/testing
 * is for tests only.
 */
const LAYERS: Record<string, readonly string[]> = {
  proto: [],
  webtransport: [],
  crypto: [],
  server: ['@pulse/proto', '@pulse/webtransport', '@pulse/crypto'],
  'clients/sdk': ['@pulse/proto', '@pulse/webtransport', '@pulse/crypto'],
  'clients/cli': ['@pulse/sdk'],
  'clients/web': ['@pulse/sdk'],
};
const LEAF_PACKAGES = ['proto', 'webtransport', 'crypto'] as const;
const packageOf = (spec: string) => spec.split('/').slice(0, 2).join('/');

describe('architecture', () => {
  for (const [pkg, allowed] of Object.entries(LAYERS)) {
    it(`${pkg}/src imports only ${allowed.length === 0 ? 'no workspace package' : allowed.join(', ')}`, () => {
      const src = join(root, pkg, 'src');
      const offenders = sourceFiles(src).flatMap((file) =>
        importsOf(readFileSync(file, 'utf8'))
          .filter((spec) =>
            spec.startsWith('.')
              ? !resolve(dirname(file), spec).startsWith(src + sep)
              : spec.startsWith('@pulse/') && !allowed.includes(packageOf(spec)),
          )
          .map((spec) => `${relative(root, file)} imports ${spec}`),
      );
      expect(offenders).toEqual([]);
    });
  }

  for (const pkg of LEAF_PACKAGES) {
    it(`${pkg}/src uses Node APIs only in its Node-only files`, () => {
      const nodeOnly = (file: string) =>
        file.includes(join('webtransport', 'src', 'node')) || file.endsWith('/node.ts');
      const offenders = sourceFiles(join(root, pkg, 'src'))
        .filter((file) => !nodeOnly(file))
        .flatMap((file) =>
          importsOf(readFileSync(file, 'utf8'))
            .filter((spec) => spec.startsWith('node:') || spec.startsWith('@matrixai/'))
            .map((spec) => `${relative(root, file)} imports ${spec}`),
        );
      expect(offenders).toEqual([]);
    });
  }

  it('proto, webtransport and crypto entry points bundle for the browser and run in Chromium', async () => {
    const entry = `
      import { FrameCodec } from '@pulse/proto';
      import * as crypto from '@pulse/crypto';
      import { encodeFieldSection, decodeFieldSection } from '@pulse/webtransport';
      const codec = new FrameCodec();
      const frame = codec.decode(codec.encode({ type: 'ping', nonce: 42 }));
      const fields = decodeFieldSection(encodeFieldSection([{ name: ':method', value: 'CONNECT' }]), 1024);
      window.result = { nonce: frame.nonce, method: fields[0].value, cryptoExports: Object.keys(crypto).length };
    `;
    const script = await bundleForBrowser(entry, root);
    expect(script.length).toBeGreaterThan(0);

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.setContent('<!doctype html><title>pulse</title>');
      await page.addScriptTag({ content: script });
      const result = await page.evaluate(() => (window as unknown as { result: unknown }).result);
      expect(errors).toEqual([]);
      expect(result).toMatchObject({ nonce: 42, method: 'CONNECT' });
    } finally {
      await browser.close();
    }
  });
});
