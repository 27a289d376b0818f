import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { build, type Plugin } from 'esbuild';

/**
 * The kernel as one file, `dist/heldar.js` (+ `.map`), bundled from tsc's output (tsc, not esbuild,
 * compiles the TypeScript: esbuild cannot emit the decorator metadata Nest's injection and
 * class-validator read).
 *
 * Why: booting from ~2,000 files spent two thirds of the CPU before `/readyz` in Node's module
 * loader (resolving, stat-ing, reading and compiling each file); one file skips all of it.
 *
 * Left outside (required from node_modules at run time, as before): native addons, packages that
 * read their own files through `__dirname` (swagger-ui-dist's assets), and every package a library
 * only *tries* to require (Nest's microservices/websockets, TypeORM's other drivers, `pg` until a
 * PostgreSQL URL asks for it): those resolve, or fail, exactly as they did unbundled.
 *
 * The kernel is `dist/heldar.bundle.js`; `dist/heldar.js`, what is started, is a small launcher
 * that runs it through a V8 code cache (src/code-cache.ts), told the bundle's content hash here.
 */
// dist/scripts/bundle.js when built; scripts/bundle.ts when a test imports it.
const ROOT = basename(dirname(__dirname)) === 'dist' ? join(__dirname, '..', '..') : join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const ENTRY = join(DIST, 'src', 'main.js');
const LAUNCHER_ENTRY = join(DIST, 'src', 'launcher.js');
export const BUNDLE = join(DIST, 'heldar.bundle.js');
export const LAUNCHER = join(DIST, 'heldar.js');

const EXTERNAL = ['better-sqlite3', '@node-rs/argon2', 'pg', 'pg-native', 'swagger-ui-dist'];

/** A bare `require('x')` that does not resolve at build time stays a run-time `require('x')`. */
const externalIfMissing: Plugin = {
  name: 'external-if-missing',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if ((args.pluginData as { probe?: boolean } | undefined)?.probe) return undefined;
      const found = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: { probe: true },
      });
      return found.errors.length > 0 ? { path: args.path, external: true } : undefined;
    });
  },
};

/**
 * Every non-ASCII character as a `\uXXXX` escape. V8 keeps a script that holds a single
 * character above U+00FF as UTF-16, twice the bytes of the 6 MB bundle, for the life of the
 * process. esbuild already writes strings, templates and identifiers in ASCII; what it leaves
 * are regular-expression literals (validator's locale alphabets), where `\uXXXX` is the same
 * UTF-16 code unit in both unicode and non-unicode mode, and comments.
 */
export function escapeNonAscii(code: string): string {
  return code.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export const WEB_SRC = join(ROOT, 'web');
export const WEB_OUT = join(DIST, 'web');

/**
 * The operator console (web/) into `outDir`: index.html + `assets/app-<hash>.js` + `.css` (+ maps),
 * hls.js bundled in (nothing is fetched from a CDN: sites are often offline). The hash in the
 * names lets the kernel serve them as immutable; index.html names the current ones.
 */
export async function buildWeb(outDir = WEB_OUT): Promise<{ js: string; css: string }> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: { app: join(WEB_SRC, 'src', 'main.ts') },
    outdir: join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    format: 'iife',
    minify: true,
    sourcemap: 'linked',
    tsconfig: join(WEB_SRC, 'tsconfig.json'),
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
  const js = outputs.find((f) => /^app-\w+\.js$/.test(f));
  const css = outputs.find((f) => /^app-\w+\.css$/.test(f));
  if (!js || !css) throw new Error(`web build: no app JS/CSS among ${outputs.join(', ')}`);
  const html = readFileSync(join(WEB_SRC, 'index.html'), 'utf8')
    .replace('__JS__', js)
    .replace('__CSS__', css);
  writeFileSync(join(outDir, 'index.html'), html);
  return { js, css };
}

async function main(): Promise<void> {
  await buildWeb();
  await build({
    entryPoints: [ENTRY],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Nest tokens, TypeORM entity and migration names and stack traces read class/function names.
    keepNames: true,
    // Whitespace and syntax only: identifiers stay readable in stack traces (the map has the rest).
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: true,
    external: EXTERNAL,
    plugins: [externalIfMissing],
    logLevel: 'warning',
  });
  const code = escapeNonAscii(readFileSync(BUNDLE, 'utf8'));
  writeFileSync(BUNDLE, code);
  // Caches of earlier bundles next to this one are of no use any more.
  for (const f of readdirSync(DIST)) if (/^heldar-[0-9a-f]+\.v8cache$/.test(f)) rmSync(join(DIST, f));
  await build({
    entryPoints: [LAUNCHER_ENTRY],
    outfile: LAUNCHER,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    define: {
      HELDAR_BUNDLE_HASH: JSON.stringify(createHash('sha256').update(code).digest('hex').slice(0, 16)),
      HELDAR_BUNDLE_SIZE: String(Buffer.byteLength(code, 'latin1')),
    },
    logLevel: 'warning',
  });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
