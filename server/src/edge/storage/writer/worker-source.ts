import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';

let source: URL | undefined;

/**
 * The writer thread's program (worker.ts and what it imports) as one ES
 * module in a `data:` URL, bundled by esbuild on first use (the server bundles
 * the web client the same way). A worker thread does not inherit tsx's loader
 * hooks on Node 20, and loading tsx inside each worker costs about a second;
 * the bundle starts in tens of milliseconds. better-sqlite3 stays outside the
 * bundle (it loads a native addon), imported by its absolute file URL.
 */
export function writerSource(): URL {
  if (source !== undefined) return source;
  const betterSqlite3 = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href;
  const built = buildSync({
    entryPoints: [fileURLToPath(new URL('./worker.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    alias: { 'better-sqlite3': betterSqlite3 },
    external: [betterSqlite3],
    logLevel: 'silent',
  });
  source = new URL(`data:text/javascript,${encodeURIComponent(built.outputFiles[0]!.text)}`);
  return source;
}
