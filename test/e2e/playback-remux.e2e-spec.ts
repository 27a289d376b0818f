import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { createRootLogger } from '../../src/common/logger';
import { FRAGMENTED_MP4_MOVFLAGS } from '../../src/media/ffmpeg-args';
import { ProcessRunner } from '../../src/process/process-runner';
import { RemuxCache } from '../../src/playback/remux-cache';
import { IndexerService } from '../../src/timeline/indexer.service';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/** Frame interval of the footage (5 fps). */
const FRAME_S = 0.2;

const run = (cmd: string, args: string[], timeoutMs = 60_000) =>
  new Promise<string>((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });

/** 2 s of H.264 at 5 fps, a keyframe every second, no B-frames (what the cameras send): fragmented
 * like the recorder writes it, or a plain MP4 (`moov` at the end, as older recorders and imports). */
const encode = (out: string, fragmented: boolean, seed: number) =>
  run('ffmpeg', [
    '-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=5:duration=2,hue=h=${seed * 40}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-bf', '0', '-pix_fmt', 'yuv420p',
    ...(fragmented ? ['-movflags', FRAGMENTED_MP4_MOVFLAGS] : []), '-f', 'mp4', '-y', out,
  ]); // prettier-ignore

/** framemd5 packet hashes (the last column) of a file or URL, stream copy. */
async function packetHashes(input: string): Promise<string[]> {
  const out = await run('ffmpeg', [
    '-v',
    'error',
    '-i',
    input,
    '-map',
    '0:v',
    '-c',
    'copy',
    '-f',
    'framemd5',
    '-',
  ]);
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').pop()!.trim());
}

const name = (ms: number) =>
  `${new Date(ms).toISOString().slice(0, 10)}/${new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15)}.mp4`;

interface Segment {
  id: string;
  path: string;
  start_time: string;
  end_time: string;
  duration_s: number;
}

describe(`playback of recorded files that are not fragmented MP4: the remux fallback (${ENGINE})`, () => {
  let t: TestApp;
  const lines: Array<Record<string, unknown>> = [];
  const work = mkdtempSync(join(tmpdir(), 'heldar-pbr-'));
  let segs: Segment[] = [];
  const recDir = () => join(t.store.config.recordingsDirAbs, 'old');
  const fileOf = (s: Segment) => join(t.store.config.recordingsDirAbs, s.path);
  const open = (from: string, to: string) => t.http().post('/api/v1/cameras/old/playback').send({ from, to });
  const remuxRuns = (spy: jest.SpyInstance) =>
    spy.mock.calls.filter((c) => (c[1] as string[]).includes(FRAGMENTED_MP4_MOVFLAGS)).length;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n'))
          if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    t = await startTestApp({
      env: { HELDAR_INDEXER_INTERVAL_S: '3600', HELDAR_RETENTION_INTERVAL_S: '86400' },
      logger: createRootLogger('info', sink),
    });
    await t.http().post('/api/v1/cameras').send({ id: 'old', name: 'old', segment_seconds: 2 }).expect(201);
    // Four 2 s files back to back ten minutes ago: native fMP4, plain MP4, native, plain MP4 (corrupted
    // after it is indexed: it cannot be remuxed).
    const T0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
    const kinds = [true, false, true, false];
    for (const [i, fragmented] of kinds.entries()) {
      const at = T0 + i * 2000;
      const p = join(recDir(), name(at));
      mkdirSync(dirname(p), { recursive: true });
      await encode(p, fragmented, i);
      utimesSync(p, (at + 30_000) / 1000, (at + 30_000) / 1000);
    }
    await t.app.get(IndexerService).scanCamera('old');
    segs = (await t.http().get('/api/v1/cameras/old/segments?limit=100').expect(200)).body as Segment[];
    expect(segs).toHaveLength(4);
    const bad = fileOf(segs[3]);
    const size = statSync(bad).size;
    writeFileSync(bad, Buffer.alloc(size, 0x5a));
    utimesSync(bad, (T0 + 36_000) / 1000, (T0 + 36_000) / 1000);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('a session across native and plain MP4 files: mode mixed, the plain one remuxed once, the corrupt one skipped with a reason; ffmpeg reads it all, packets identical', async () => {
    const runner = jest.spyOn(t.app.get(ProcessRunner), 'runToCompletion');
    try {
      const res = await open(segs[0].start_time, segs[3].end_time);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        mode: 'mixed',
        segment_count: 3,
        remuxed_segments: 1,
        skipped_segments: 1,
        skipped: [
          {
            segment_id: segs[3].id,
            start_time: segs[3].start_time,
            reason: 'ffmpeg remux failed (input: Invalid data found when processing input)',
          },
        ],
      });
      expect(remuxRuns(runner)).toBe(2); // the plain file and the corrupt one
      expect(
        lines.filter((l) => l.msg === 'segment left out of a playback session' && l.segmentId === segs[3].id),
      ).toEqual([expect.objectContaining({ sessionId: res.body.id, reason: res.body.skipped[0].reason })]);

      // The playlist points at the remuxed copy as byte ranges (MAP + fragments), the natives as before.
      const text = (await t.http().get(res.body.playlist_url).expect(200)).text;
      const uris = [...new Set(text.split('\n').filter((l) => l && !l.startsWith('#')))].map(
        (u) => u.split('?')[0],
      );
      expect(uris).toEqual([`${segs[0].id}.mp4`, `${segs[1].id}.mp4`, `${segs[2].id}.mp4`]);
      expect(text).toContain(`#EXT-X-MAP:URI="${segs[1].id}.mp4?token=`);
      const copy = join(t.app.get(RemuxCache).dir, `${segs[1].id}.mp4`);
      const ranges = text
        .split('\n')
        .map((l, i, all) => [l, all[i + 1]] as const)
        .filter(([l, next]) => l.startsWith('#EXT-X-BYTERANGE:') && next?.startsWith(`${segs[1].id}.mp4`))
        .map(([l]) => l.slice(17).split('@').map(Number));
      expect(ranges.length).toBeGreaterThanOrEqual(2);
      for (const [len, off] of ranges) expect(off + len).toBeLessThanOrEqual(statSync(copy).size);

      const url = `${t.baseUrl}${res.body.playlist_url}`;
      const out = join(work, 'copy.mp4');
      await run('ffmpeg', ['-v', 'error', '-i', url, '-c', 'copy', '-y', out], 120_000);
      const probe = JSON.parse(
        await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'json', out]),
      ) as { format: { duration: string } };
      const covered = segs.slice(0, 3).reduce((n, s) => n + s.duration_s, 0);
      expect(Math.abs(Number(probe.format.duration) - covered)).toBeLessThanOrEqual(FRAME_S);
      const source: string[] = [];
      for (const s of segs.slice(0, 3)) source.push(...(await packetHashes(fileOf(s))));
      expect(source).toHaveLength(30);
      expect(await packetHashes(url)).toEqual(source);

      // A second session over the plain file alone: served from the cache (no ffmpeg), mode remux.
      const again = await open(segs[1].start_time, segs[1].end_time).expect(201);
      expect(again.body).toMatchObject({ mode: 'remux', remuxed_segments: 1, skipped_segments: 0 });
      expect(remuxRuns(runner)).toBe(2);
      // Natives alone: mode fmp4.
      const native = await open(segs[0].start_time, segs[0].end_time).expect(201);
      expect(native.body).toMatchObject({ mode: 'fmp4', remuxed_segments: 0, skipped: [] });
      for (const id of [res.body.id, again.body.id, native.body.id])
        await t.http().delete(`/api/v1/playback/${id}`).expect(204);
    } finally {
      runner.mockRestore();
    }
  }, 180_000);

  it('the cache: a copy goes with its source, a restart drops stale and orphan files and keeps the rest', async () => {
    const cache = t.app.get(RemuxCache);
    const copy = join(cache.dir, `${segs[1].id}.mp4`);
    expect(existsSync(copy)).toBe(true);
    expect(cache.count).toBe(1);
    // Unchanged source: the sweep keeps it; a restart (load) adopts it.
    expect(await cache.sweep()).toBe(0);
    writeFileSync(join(cache.dir, 'seg_gone.mp4'), 'x');
    writeFileSync(
      join(cache.dir, 'seg_gone.json'),
      JSON.stringify({ source: '/nonexistent.mp4', sourceKey: '1:1' }),
    );
    writeFileSync(join(cache.dir, 'seg_half.tmp.mp4'), 'x');
    await cache.load();
    expect(readdirSync(cache.dir).sort()).toEqual([`${segs[1].id}.json`, `${segs[1].id}.mp4`]);
    expect(cache.count).toBe(1);
    // An open session pins the copy even when its source goes; once closed, the sweep removes it.
    const res = await open(segs[1].start_time, segs[1].end_time).expect(201);
    rmSync(fileOf(segs[1]));
    expect(await cache.sweep()).toBe(0);
    expect(existsSync(copy)).toBe(true);
    await t.http().delete(`/api/v1/playback/${res.body.id}`).expect(204);
    expect(await cache.sweep()).toBe(1);
    expect(readdirSync(cache.dir)).toEqual([]);
    expect(cache.count).toBe(0);
  });
});
