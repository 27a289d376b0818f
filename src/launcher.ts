import { createRequire } from 'node:module';
import { join } from 'node:path';
import { holdYoungGeneration } from './boot-heap';
import { cacheDirs, compileBundle, READY_EVENT, runBundle, sameSize, saveCache } from './code-cache';

/**
 * `dist/heldar.js`, what `make run` and the image start: runs the kernel bundle
 * (`dist/heldar.bundle.js`) through a V8 code cache (see code-cache.ts), with V8's young
 * generation held at its starting size until the server listens (see boot-heap.ts). The build replaces
 * HELDAR_BUNDLE_HASH and HELDAR_BUNDLE_SIZE with the bundle's content hash and size.
 */
declare const HELDAR_BUNDLE_HASH: string;
declare const HELDAR_BUNDLE_SIZE: number;

// Before anything is compiled: the flag is part of what a code cache must match.
const releaseYoungGeneration = holdYoungGeneration();
const bundle = join(__dirname, 'heldar.bundle.js');
// A bundle the build did not hash (copied over by hand) runs without a cache rather than with a wrong one.
const hash = sameSize(bundle, HELDAR_BUNDLE_SIZE) ? HELDAR_BUNDLE_HASH : undefined;
const dirs = cacheDirs(bundle, process.env.HELDAR_DATA_DIR, process.env.HELDAR_CODE_CACHE_DIR);
if ((process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled) {
  // `node --enable-source-maps dist/heldar.js`: Node maps stack traces only for files its module
  // loader read, so the bundle is required as a plain file (no code cache) while debugging.
  process.once(READY_EVENT, releaseYoungGeneration);
  createRequire(bundle)(bundle);
} else {
  const { script, state } = compileBundle(bundle, hash ?? 'none', hash ? dirs : []);
  (globalThis as { heldarCodeCache?: string }).heldarCodeCache = hash ? state : 'off';
  process.once(READY_EVENT, () => {
    if (!hash || state === 'accepted') return releaseYoungGeneration();
    // A second later: the first requests are not kept waiting behind the write.
    setTimeout(() => {
      saveCache(script, hash, dirs);
      releaseYoungGeneration();
    }, 1000).unref();
  });
  runBundle(script, bundle, module);
}
