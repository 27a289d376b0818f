import { join } from 'node:path';
import { cacheDirs, compileBundle, READY_EVENT, runBundle, sameSize, saveCache } from './code-cache';

/**
 * `dist/heldar.js`, what `make run` and the image start: runs the kernel bundle
 * (`dist/heldar.bundle.js`) through a V8 code cache (see code-cache.ts). The build replaces
 * HELDAR_BUNDLE_HASH and HELDAR_BUNDLE_SIZE with the bundle's content hash and size.
 */
declare const HELDAR_BUNDLE_HASH: string;
declare const HELDAR_BUNDLE_SIZE: number;

const bundle = join(__dirname, 'heldar.bundle.js');
// A bundle the build did not hash (copied over by hand) runs without a cache rather than with a wrong one.
const hash = sameSize(bundle, HELDAR_BUNDLE_SIZE) ? HELDAR_BUNDLE_HASH : undefined;
const dirs = cacheDirs(bundle, process.env.HELDAR_DATA_DIR);
const { script, state } = compileBundle(bundle, hash ?? 'none', hash ? dirs : []);
(globalThis as { heldarCodeCache?: string }).heldarCodeCache = hash ? state : 'off';
if (hash && state !== 'accepted') {
  process.once(READY_EVENT, () => {
    // A second later: the first requests are not kept waiting behind the write.
    setTimeout(() => saveCache(script, hash, dirs), 1000).unref();
  });
}
runBundle(script, bundle, module);
