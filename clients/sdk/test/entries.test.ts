import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { importsOf, sourceFiles } from '@pulse/testing/source';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '../src');

describe('the SDK entries', () => {
  it('the main entry bundles for the browser without reaching any Node module', async () => {
    const result = await build({
      entryPoints: [join(src, 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      metafile: true,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(
      inputs.filter((file) => /node_modules\/ws\/|file-vault|\/node\.ts$|webtransport\/src\/node\//.test(file)),
    ).toEqual([
      // crypto's own Node fast path is reached through process.getBuiltinModule, harmless in a browser
      ...inputs.filter((file) => file.includes('crypto/src/primitives/node.ts')),
    ]);
  });

  it('Node-only imports (node:*, ws, @pulse/webtransport/node) appear only in node.ts and the file vault', () => {
    const nodeOnly = new Set(['node.ts', join('store', 'file-vault.ts')]);
    const offenders = sourceFiles(src)
      .filter((file) => !nodeOnly.has(relative(src, file)))
      .flatMap((file) =>
        importsOf(readFileSync(file, 'utf8'))
          .filter((spec) => spec.startsWith('node:') || spec === 'ws' || spec === '@pulse/webtransport/node')
          .map((spec) => `${relative(src, file)} imports ${spec}`),
      );
    expect(offenders).toEqual([]);
  });
});
