import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { importsOf, sourceFiles } from '@pulse/testing/source';
import { describe, expect, it } from 'vitest';

/**
 * The server's layering, checked on its sources (like scripts/test/architecture.test.ts):
 * src/core decides and does no I/O: it imports no Node module, no I/O package
 * and nothing of src/edge, and touches no Node global (time, randomness, timers,
 * the logger and metrics are ports handed in). src/edge may import core.
 */
const server = resolve(import.meta.dirname, '..');
const core = join(server, 'src', 'core');
const edge = join(server, 'src', 'edge');

/** The code without comments and string literals (where mentioning `process` is fine). */
function codeOf(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/(['"`])(?:\\.|(?!\1)[^\\])*\1/g, "''");
}

/** Packages that do I/O or belong to the edge. */
const EDGE_PACKAGES = ['better-sqlite3', 'ws', 'pino', 'prom-client', 'smol-toml', 'esbuild', '@pulse/webtransport'];
/** Node globals that are I/O, time or platform: the core gets these through its ports. */
const NODE_GLOBALS =
  /\b(process|Buffer|setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|clearImmediate|require|NodeJS|performance|Date)\b/;

describe('server architecture', () => {
  const coreFiles = sourceFiles(core);

  it('finds the core and edge sources', () => {
    expect(coreFiles.length).toBeGreaterThan(20);
    expect(sourceFiles(edge).length).toBeGreaterThan(10);
  });

  it('core imports no node: module, no I/O package and nothing of edge', () => {
    const offenders = coreFiles.flatMap((file) =>
      importsOf(readFileSync(file, 'utf8'))
        .filter(
          (spec) =>
            spec.startsWith('node:') ||
            EDGE_PACKAGES.some((pkg) => spec === pkg || spec.startsWith(`${pkg}/`)) ||
            (spec.startsWith('.') && !resolve(file, '..', spec).startsWith(`${core}/`)),
        )
        .map((spec) => `${relative(server, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('core imports only @pulse/proto of the workspace, and no other package', () => {
    const packages = new Set(
      coreFiles.flatMap((file) => importsOf(readFileSync(file, 'utf8')).filter((spec) => !spec.startsWith('.'))),
    );
    expect([...packages]).toEqual(['@pulse/proto']);
  });

  it('core uses no Node global (time, timers, randomness, process, Buffer come in through ports)', () => {
    const offenders = coreFiles.flatMap((file) => {
      const match = NODE_GLOBALS.exec(codeOf(readFileSync(file, 'utf8')));
      return match === null ? [] : [`${relative(server, file)} uses ${match[1]}`];
    });
    expect(offenders).toEqual([]);
  });

  it('the checks catch what they look for', () => {
    expect(importsOf("import { x } from 'node:fs';\nimport 'ws';\nconst m = await import('pino');")).toEqual([
      'node:fs',
      'ws',
      'pino',
    ]);
    expect(NODE_GLOBALS.test(codeOf('const t = setTimeout(f, 1);'))).toBe(true);
    expect(NODE_GLOBALS.test(codeOf("// setTimeout in a comment\nconst s = 'process';"))).toBe(false);
  });
});
