import { build } from 'esbuild';

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
