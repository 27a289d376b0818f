import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDirs, cacheFileName, compileBundle, runBundle, saveCache, sameSize } from './code-cache';

describe('cacheDirs', () => {
  it.each([
    ['/app/dist/heldar.bundle.js', undefined, ['/app/dist']],
    ['/app/dist/heldar.bundle.js', '', ['/app/dist']],
    ['/app/dist/heldar.bundle.js', '/data', ['/app/dist', '/data']],
    ['/app/dist/heldar.bundle.js', '/app/dist', ['/app/dist']],
  ])('%s with data dir %p → %p', (bundle, data, dirs) => {
    expect(cacheDirs(bundle, data)).toEqual(dirs);
  });

  it('an explicit folder (HELDAR_CODE_CACHE_DIR) is the only one used', () => {
    expect(cacheDirs('/app/dist/heldar.bundle.js', '/data', '/var/cache/heldar')).toEqual([
      '/var/cache/heldar',
    ]);
    expect(cacheDirs('/app/dist/heldar.bundle.js', '/data', '')).toEqual(['/app/dist', '/data']);
  });
});

describe('the bundle through a V8 code cache', () => {
  let dir: string;
  let bundle: string;
  const SOURCE = `const { join } = require('node:path');
    function add(a, b) { return a + b; }
    module.exports = { sum: [1, 2, 3].reduce(add, 0), here: join(__dirname, 'x'), self: __filename };`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'heldar-code-cache-'));
    mkdirSync(join(dir, 'dist'));
    mkdirSync(join(dir, 'data'));
    bundle = join(dir, 'dist', 'heldar.bundle.js');
    writeFileSync(bundle, SOURCE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs as a CommonJS module, writes the cache once, and the next start uses it', () => {
    const dirs = [join(dir, 'dist'), join(dir, 'data')];
    const first = compileBundle(bundle, 'aaaa', dirs);
    expect(first.state).toBe('absent');
    expect(runBundle(first.script, bundle)).toEqual({ sum: 6, here: join(dir, 'dist', 'x'), self: bundle });
    expect(saveCache(first.script, 'aaaa', dirs)).toBe(join(dir, 'dist', cacheFileName('aaaa')));

    const second = compileBundle(bundle, 'aaaa', dirs);
    expect(second).toMatchObject({ state: 'accepted', cacheFile: join(dir, 'dist', 'heldar-aaaa.v8cache') });
    expect(runBundle(second.script, bundle)).toMatchObject({ sum: 6 });
  });

  it("another bundle's cache is not read, and is removed when this one's is written", () => {
    const dirs = [join(dir, 'dist')];
    saveCache(compileBundle(bundle, 'aaaa', dirs).script, 'aaaa', dirs);
    const other = compileBundle(bundle, 'bbbb', dirs);
    expect(other.state).toBe('absent');
    saveCache(other.script, 'bbbb', dirs);
    expect(readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.v8cache'))).toEqual([
      'heldar-bbbb.v8cache',
    ]);
  });

  it('a cache V8 refuses (corrupt, other V8) is reported rejected and the bundle still runs', () => {
    const dirs = [join(dir, 'dist')];
    writeFileSync(join(dir, 'dist', cacheFileName('aaaa')), Buffer.alloc(4096, 7));
    const loaded = compileBundle(bundle, 'aaaa', dirs);
    expect(loaded.state).toBe('rejected');
    expect(runBundle(loaded.script, bundle)).toMatchObject({ sum: 6 });
    saveCache(loaded.script, 'aaaa', dirs);
    expect(compileBundle(bundle, 'aaaa', dirs).state).toBe('accepted');
  });

  it("falls back to the data directory when the bundle's directory does not take the file", () => {
    const readOnly = join(dir, 'not-a-dir'); // a file: nothing can be written "in" it
    writeFileSync(readOnly, '');
    const dirs = [readOnly, join(dir, 'data')];
    const written = saveCache(compileBundle(bundle, 'aaaa', dirs).script, 'aaaa', dirs);
    expect(written).toBe(join(dir, 'data', 'heldar-aaaa.v8cache'));
    expect(compileBundle(bundle, 'aaaa', dirs).state).toBe('accepted');
    expect(readdirSync(join(dir, 'data'))).toEqual(['heldar-aaaa.v8cache']); // no temporary file left
    expect(saveCache(compileBundle(bundle, 'aaaa', [readOnly]).script, 'aaaa', [readOnly])).toBeUndefined();
  });

  it('sameSize tells the bundle the build hashed from another file', () => {
    expect(sameSize(bundle, Buffer.byteLength(SOURCE))).toBe(true);
    expect(sameSize(bundle, Buffer.byteLength(SOURCE) + 1)).toBe(false);
    expect(sameSize(join(dir, 'missing.js'), 0)).toBe(false);
    expect(existsSync(bundle)).toBe(true);
  });
});
