import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FragmentIndexCache, fileStamp, readFragmentIndex, type Mp4FragmentIndex } from './mp4-fragments';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const box = (type: string, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]);
};
const full = (type: string, flags: number, ...parts: Buffer[]) => box(type, u32(flags), ...parts);

/** A track (`vide` or `soun`) with id, timescale and a trex default duration. */
function trak(id: number, handler: string, timescale: number): Buffer {
  const tkhd = full('tkhd', 0, Buffer.alloc(8), u32(id), Buffer.alloc(60), u32(320 << 16), u32(240 << 16));
  const mdhd = full('mdhd', 0, Buffer.alloc(8), u32(timescale), u32(0), Buffer.alloc(4));
  const hdlr = full('hdlr', 0, u32(0), Buffer.from(handler, 'latin1'), Buffer.alloc(12));
  return box('trak', tkhd, box('mdia', mdhd, hdlr));
}
const moov = (defaultDur: number) =>
  box(
    'moov',
    trak(2, 'soun', 48_000),
    trak(1, 'vide', 90_000),
    box('mvex', full('trex', 0, u32(1), u32(1), u32(defaultDur), u32(0), u32(0))),
  );
/** A fragment of the video track: `durations` per sample (flag 0x100), or `count` samples of the default. */
function fragment(opts: { durations?: number[]; count?: number; tfhdDefault?: number }): Buffer {
  const tfhd = opts.tfhdDefault ? full('tfhd', 0x08, u32(1), u32(opts.tfhdDefault)) : full('tfhd', 0, u32(1));
  const trun = opts.durations
    ? full('trun', 0x100, u32(opts.durations.length), ...opts.durations.map(u32))
    : full('trun', 0, u32(opts.count ?? 1));
  const audio = box('traf', full('tfhd', 0x08, u32(2), u32(1024)), full('trun', 0, u32(50)));
  return Buffer.concat([box('moof', box('traf', tfhd, trun), audio), box('mdat', Buffer.alloc(500, 1))]);
}
const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), u32(512));

describe('readFragmentIndex', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-frag-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, buf: Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, buf);
    return p;
  };

  it('the init section and each moof+mdat with its video duration (per-sample, tfhd default, trex default)', async () => {
    const init = Buffer.concat([ftyp, moov(3000)]);
    const f1 = fragment({ durations: [18_000, 18_000, 18_000, 18_000, 18_000] }); // 1 s
    const f2 = fragment({ count: 3, tfhdDefault: 45_000 }); // 1.5 s
    const f3 = fragment({ count: 60 }); // 60 × 3000 = 2 s (trex)
    const p = write('ok.mp4', Buffer.concat([init, f1, f2, f3]));
    expect(await readFragmentIndex(p)).toEqual<Mp4FragmentIndex>({
      initLength: init.length,
      fragments: [
        { offset: init.length, length: f1.length, durationS: 1 },
        { offset: init.length + f1.length, length: f2.length, durationS: 1.5 },
        { offset: init.length + f1.length + f2.length, length: f3.length, durationS: 2 },
      ],
    });
  });

  it.each([
    ['a trailing fragment cut short (still being written) is left out', 'cut', 1],
    ['a moof without its mdat yet is left out', 'moof-only', 1],
  ])('%s', async (_what, kind, n) => {
    const init = Buffer.concat([ftyp, moov(3000)]);
    const f = fragment({ count: 30 });
    const tail = kind === 'cut' ? f.subarray(0, f.length - 100) : f.subarray(0, f.indexOf('mdat') - 4);
    const idx = await readFragmentIndex(write(`${kind}.mp4`, Buffer.concat([init, f, tail])));
    expect(idx?.fragments).toHaveLength(n);
  });

  it.each([
    [
      'a plain MP4 (mdat, then moov, no fragment)',
      Buffer.concat([ftyp, box('mdat', Buffer.alloc(100)), moov(0)]),
    ],
    ['only an init section', Buffer.concat([ftyp, moov(3000)])],
    ['a moof before any moov', Buffer.concat([ftyp, fragment({ count: 1 }), moov(3000)])],
    ['not an MP4', Buffer.alloc(4096, 7)],
    ['empty', Buffer.alloc(0)],
  ])('null for %s', async (_what, buf) => {
    expect(await readFragmentIndex(write(`${_what.replace(/\W+/g, '_')}.mp4`, buf))).toBeNull();
  });

  it('the cache reads a file once per (size, mtime) and drops the least recently used beyond its capacity', async () => {
    const reads: string[] = [];
    const cache = new FragmentIndexCache(2, (p) => {
      reads.push(p.slice(dir.length + 1));
      return Promise.resolve({ initLength: 1, fragments: [] });
    });
    const [a, b, c] = ['a', 'b', 'c'].map((n) => write(`lru_${n}.mp4`, Buffer.from(n)));
    await cache.get(a);
    await cache.get(a);
    await cache.get(b);
    await cache.get(a); // a is now the most recent
    await cache.get(c); // evicts b
    await cache.get(a);
    await cache.get(b); // read again
    expect(reads).toEqual(['lru_a.mp4', 'lru_b.mp4', 'lru_c.mp4', 'lru_b.mp4']);
    expect(cache.size).toBe(2);
    writeFileSync(b, 'bigger'); // the file changed: read again
    await cache.get(b);
    utimesSync(b, 1000, 1000); // same size, other mtime: read again
    await cache.get(b);
    expect(reads.slice(4)).toEqual(['lru_b.mp4', 'lru_b.mp4']);
    expect(await cache.get(join(dir, 'missing.mp4'))).toBeNull();
    // The stamp of the last read, without a stat; a file's own stamp changes with it.
    expect(cache.stampOf(b)).toBe(await fileStamp(b));
    expect(cache.stampOf(join(dir, 'never.mp4'))).toBeNull();
    writeFileSync(b, 'grown again');
    expect(await fileStamp(b)).not.toBe(cache.stampOf(b));
    expect(await fileStamp(join(dir, 'missing.mp4'))).toBeNull();
  });
});
