import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { constants, Script } from 'node:vm';

/**
 * The kernel bundle compiled through a V8 code cache.
 *
 * Without one, every start parses the 7 MB bundle and compiles, one by one, every function boot
 * runs: about 400 ms of CPU before `/readyz`, the same work at every start. The cache holds the
 * bytecode V8 produced the first time (taken after the server listens, so it covers all of boot)
 * and later starts deserialise it instead.
 *
 * A cache belongs to one bundle: its name carries the bundle's content hash (written by the build),
 * and V8 itself refuses data from another V8 version or flag set (then it is rebuilt). It is written
 * next to the bundle, or, where that directory is read-only (the container image), in the data
 * directory; written whole then renamed, so concurrent starts never read half a file.
 */

/** Emitted on `process` by main.ts once the server listens: boot has compiled what it needs. */
export const READY_EVENT = 'heldar:listening';

/** What the launcher did, for the boot log: `off` when the kernel was not started through it. */
export const codeCacheState = (): string =>
  (globalThis as { heldarCodeCache?: string }).heldarCodeCache ?? 'off';

export type CacheState = 'accepted' | 'rejected' | 'absent';

export interface LoadedBundle {
  script: Script;
  state: CacheState;
  /** The cache file read, when one was. */
  cacheFile?: string;
}

export const cacheFileName = (hash: string): string => `heldar-${hash}.v8cache`;

/** Where a cache may live, in order: next to the bundle, then the data directory when one is set. */
export function cacheDirs(bundle: string, dataDir: string | undefined, cacheDir?: string): string[] {
  // An explicit place (HELDAR_CODE_CACHE_DIR) is the only one used.
  if (cacheDir) return [cacheDir];
  const dirs = [dirname(bundle)];
  if (dataDir && dataDir !== dirs[0]) dirs.push(dataDir);
  return dirs;
}

function readCache(dirs: string[], hash: string): { data: Buffer; file: string } | undefined {
  for (const dir of dirs) {
    const file = join(dir, cacheFileName(hash));
    try {
      return { data: readFileSync(file), file };
    } catch {
      // absent or unreadable here: try the next place
    }
  }
  return undefined;
}

/** Compile the bundle (a CommonJS file, ASCII) with the cache for `hash`, when there is one. */
export function compileBundle(bundle: string, hash: string, dirs: string[]): LoadedBundle {
  // latin1: the build escapes every non-ASCII character, and a one-byte string is what V8 keeps.
  const source = readFileSync(bundle, 'latin1');
  const cached = readCache(dirs, hash);
  const script = new Script(Module.wrap(source), {
    filename: bundle,
    cachedData: cached?.data,
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const state: CacheState = !cached ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  return { script, state, cacheFile: cached?.file };
}

/** Run the compiled bundle as the CommonJS module `bundle` (its own require, __dirname, module);
 * returns what it exports. */
export function runBundle(script: Script, bundle: string, parent?: NodeModule): unknown {
  const mod = new Module(bundle, parent) as NodeModule & { paths: string[] };
  mod.filename = bundle;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(
    dirname(bundle),
  );
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: NodeModule,
    filename: string,
    dirname: string,
  ) => void;
  wrapper.call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
  mod.loaded = true;
  return mod.exports;
}

/**
 * Write the cache for `hash` (everything compiled so far) in the first directory that takes it and
 * remove the caches of other bundles there. Returns the file written, or undefined when no
 * directory could take it (the kernel runs the same, compiling at each start). Never throws.
 */
export function saveCache(script: Script, hash: string, dirs: string[]): string | undefined {
  let data: Buffer;
  try {
    data = script.createCachedData();
  } catch {
    return undefined;
  }
  for (const dir of dirs) {
    const file = join(dir, cacheFileName(hash));
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, data);
      renameSync(tmp, file);
    } catch {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing was written there
      }
      continue;
    }
    try {
      for (const other of readdirSync(dir)) {
        if (/^heldar-[0-9a-f]+\.v8cache$/.test(other) && other !== basename(file)) {
          rmSync(join(dir, other), { force: true });
        }
      }
    } catch {
      // a stale cache left behind costs disk, not correctness
    }
    return file;
  }
  return undefined;
}

/** True when `file` exists and is `size` bytes: the bundle the build hashed, not another one. */
export function sameSize(file: string, size: number): boolean {
  try {
    return statSync(file).size === size;
  } catch {
    return false;
  }
}
