import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

/** Packages with a native part: never bundled, imported from where npm installed them. */
export const NATIVE_PACKAGES: readonly string[] = [
  '@matrixai/quic',
  'better-sqlite3',
  'msgpackr-extract',
  'bufferutil',
  'utf-8-validate',
];

export interface NodeBundleOptions {
  /**
   * Specifiers the program imports at run time through a variable (esbuild cannot
   * follow those), each with its source entry: they are compiled too, and placed
   * where Node's resolution finds them from the bundle.
   */
  readonly runtimeImports?: Readonly<Record<string, string>>;
}

export interface NodeBundle {
  /** `node <entry> ARGS` runs the program. */
  readonly entry: string;
  readonly directory: string;
  remove(): void;
}

/**
 * Compiles a Node program (`main`, a TypeScript source of the workspace) into one ES
 * module in a temporary directory, so tests can spawn it as `node <entry>`
 * without paying tsx's compile-at-start on every run (about 1 s per command on
 * two shared cores). The same sources, compiled by the same esbuild tsx uses;
 * only native packages stay outside. Removed when this process exits (a test
 * worker may be killed instead: the next bundle removes what dead processes left).
 */
export async function bundleNodeProgram(main: string, options: NodeBundleOptions = {}): Promise<NodeBundle> {
  removeOrphans();
  const directory = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  const remove = () => rmSync(directory, { recursive: true, force: true });
  process.once('exit', remove);
  const entryPoints: Record<string, string> = { main };
  const packages = new Map<string, Record<string, string>>();
  for (const [specifier, entry] of Object.entries(options.runtimeImports ?? {})) {
    const { name, subpath } = splitSpecifier(specifier);
    const file = subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-');
    entryPoints[`node_modules/${name}/${file}`] = entry;
    packages.set(name, { ...packages.get(name), [subpath]: `./${file}.mjs` });
  }
  await build({
    entryPoints,
    outdir: directory,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    plugins: [nativePackagesInPlace()],
    // CommonJS dependencies call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __pulseRequire } from 'node:module'; const require = __pulseRequire(import.meta.url);",
    },
  });
  for (const [name, exports] of packages) {
    mkdirSync(join(directory, 'node_modules', name), { recursive: true });
    writeFileSync(
      join(directory, 'node_modules', name, 'package.json'),
      JSON.stringify({ name, type: 'module', exports }),
    );
  }
  return { entry: join(directory, 'main.mjs'), directory, remove };
}

const PREFIX = 'pulse-node-bundle-';

/** Removes bundles whose process is gone. */
function removeOrphans(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number.parseInt(name.slice(PREFIX.length), 10);
    if (name.startsWith(PREFIX) && Number.isSafeInteger(pid) && !isAlive(pid)) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function splitSpecifier(specifier: string): { name: string; subpath: string } {
  const parts = specifier.split('/');
  const length = specifier.startsWith('@') ? 2 : 1;
  const rest = parts.slice(length).join('/');
  return { name: parts.slice(0, length).join('/'), subpath: rest === '' ? '.' : `./${rest}` };
}

/** Native packages resolve as esbuild would, but stay external, by absolute path: the bundle runs from anywhere. */
function nativePackagesInPlace(): Plugin {
  const isNative = (path: string) => NATIVE_PACKAGES.some((name) => path === name || path.startsWith(`${name}/`));
  return {
    name: 'native-packages-in-place',
    setup(build) {
      build.onResolve({ filter: /^[@a-z]/ }, async (args) => {
        if (!isNative(args.path) || args.pluginData === 'native') return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'native',
        });
        // Not installed (an optional native part): left for the program's own fallback at run time.
        if (resolved.errors.length > 0) return { path: args.path, external: true };
        return { path: resolved.path, external: true };
      });
    },
  };
}
