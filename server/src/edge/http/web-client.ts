import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
};

const PLACEHOLDER = `<!doctype html><meta charset="utf-8"><title>Pulse</title>
<p>This Pulse server has no web client installed. Clients connect with <code>/pulse/info</code>.</p>`;

export interface StaticFile {
  readonly status: number;
  readonly type: string;
  readonly body: Uint8Array | string;
}

/**
 * The web client: static files under `[web] root`, plus `/app.js` bundled in
 * memory by esbuild from `[web] entry` at start. The server never imports client
 * code; a missing client just serves a short page.
 */
export class WebClient {
  readonly #root: string;
  #bundle: Uint8Array | undefined;

  constructor(root: string) {
    this.#root = resolve(root);
  }

  /** Bundles `entry` when it exists; failures are logged, not fatal. */
  async build(entry: string, log: Logger): Promise<void> {
    if (entry === '' || !existsSync(entry)) return;
    try {
      const esbuild = await import('esbuild');
      const result = await esbuild.build({
        entryPoints: [entry],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        write: false,
        minify: true,
        sourcemap: false,
        logLevel: 'silent',
      });
      this.#bundle = result.outputFiles[0]?.contents;
      log.info({ entry, bytes: this.#bundle?.length }, 'web client bundled');
    } catch (error) {
      log.warn({ entry, err: (error as Error).message }, 'web client bundle failed; /app.js is unavailable');
    }
  }

  async get(pathname: string): Promise<StaticFile> {
    if (pathname === '/app.js' && this.#bundle !== undefined) {
      return { status: 200, type: TYPES['.js']!, body: this.#bundle };
    }
    const relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    const file = resolve(join(this.#root, relative));
    // Never serve outside the root (`..`, encoded slashes).
    if (file !== this.#root && !file.startsWith(this.#root + sep)) return notFound();
    try {
      if (!(await stat(file)).isFile()) return notFound();
      return { status: 200, type: TYPES[extname(file)] ?? 'application/octet-stream', body: await readFile(file) };
    } catch {
      if (pathname === '/') return { status: 200, type: TYPES['.html']!, body: PLACEHOLDER };
      return notFound();
    }
  }
}

function notFound(): StaticFile {
  return { status: 404, type: 'text/plain; charset=utf-8', body: 'not found\n' };
}
