import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prefixedId } from '../../src/common/ids';
import { TimelineRepository } from '../../src/timeline/timeline.repository';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/** A real H.264 MP4 of `seconds` made by ffmpeg. */
function clip(dir: string, seconds: number): string {
  const out = join(dir, `clip_${seconds}.mp4`);
  execFileSync('ffmpeg', [
    '-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=160x120:rate=5:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-pix_fmt', 'yuv420p', '-y', out,
  ]); // prettier-ignore
  return out;
}

const name = (ms: number) =>
  new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15) + '.mp4';
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

interface Seg {
  id: string;
  path: string;
  url: string;
  start_time: string;
  end_time: string;
}

const work = mkdtempSync(join(tmpdir(), 'heldar-days-'));
const two = clip(work, 2);
const QUIET = { HELDAR_INDEXER_INTERVAL_S: '3600' }; // only the boot pass reconciles

const segments = async (t: TestApp, id: string): Promise<Seg[]> =>
  (await t.http().get(`/api/v1/cameras/${id}/segments?limit=5000`).expect(200)).body as Seg[];

describe(`day-partitioned recordings (${ENGINE})`, () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  describe('flat → day folders at boot', () => {
    let t: TestApp;
    afterAll(async () => {
      await t?.close();
    });

    it('moves flat files (indexed, unindexed, and one whose row moved before a crash) into day folders; rows follow, no duplicates, media serves them', async () => {
      t = await startTestApp({ env: QUIET });
      await t
        .http()
        .post('/api/v1/cameras')
        .send({ id: 'mig', name: 'Migrated', segment_seconds: 2 })
        .expect(201);
      const camDir = join(t.store.config.recordingsDirAbs, 'mig');
      mkdirSync(camDir, { recursive: true });
      // Across last midnight, so two day folders result (recent: retention leaves them alone).
      const T = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 6000;
      const at = [T, T + 2000, T + 4000, T + 6000, T + 8000];
      const repo = t.app.get(TimelineRepository);
      // Indexed by an old kernel under flat paths: the first three. The fourth's row was already
      // moved to the day folder when that kernel crashed (its file was not). The fifth: no row.
      for (let i = 0; i < 4; i++) {
        await repo.insertSegment({
          id: prefixedId('seg_'),
          cameraId: 'mig',
          path: i < 3 ? `mig/${name(at[i])}` : `mig/${day(at[i])}/${name(at[i])}`,
          startTime: new Date(at[i]).toISOString(),
          endTime: new Date(at[i] + 2000).toISOString(),
          durationS: 2,
          codec: 'h264',
          width: 160,
          height: 120,
          fps: 5,
          sizeBytes: 1,
          container: 'mp4',
          locked: 0,
          evidenceLocked: false,
          incidentId: null,
          createdAt: new Date().toISOString(),
        });
      }
      await t.stopServer();
      for (const ms of at) {
        const p = join(camDir, name(ms));
        copyFileSync(two, p);
        utimesSync(p, (ms + 2000) / 1000, (ms + 2000) / 1000);
      }

      t = await startTestApp({ env: QUIET, store: t.store });
      const segs = await waitFor(
        async () => {
          const s = await segments(t, 'mig');
          return s.length >= 5 ? s : null;
        },
        20_000,
        'five segments',
      );
      expect(readdirSync(camDir).sort()).toEqual([day(T), day(T + 6000)]);
      expect(readdirSync(join(camDir, day(T))).sort()).toEqual(at.slice(0, 3).map(name));
      expect(readdirSync(join(camDir, day(T + 6000))).sort()).toEqual(at.slice(3).map(name));
      expect(segs.map((s) => s.path)).toEqual(at.map((ms) => `mig/${day(ms)}/${name(ms)}`));
      expect(new Set(segs.map((s) => s.id)).size).toBe(5);
      const bytes = readFileSync(two);
      for (const s of segs) {
        expect(s.url).toBe(`/media/recordings/${s.path}`);
        const res = await t.http().get(s.url).buffer(true).expect(200);
        expect(Buffer.compare(res.body as Buffer, bytes)).toBe(0);
      }
      // The day folder does not open a way out of the recordings root.
      for (const path of [
        `/media/recordings/mig/${day(T)}/..%2f..%2f..%2fheldar.db`,
        `/media/recordings/mig/${day(T)}/%2e%2e/%2e%2e/x.mp4`,
      ]) {
        expect([400, 404]).toContain((await t.http().get(path)).status);
      }

      // A second boot changes nothing.
      await t.stopServer();
      t = await startTestApp({ env: QUIET, store: t.store });
      await new Promise((r) => setTimeout(r, 1500));
      expect((await segments(t, 'mig')).map((s) => s.id)).toEqual(segs.map((s) => s.id));
    });
  });

  describe('backlog written while the kernel was down', () => {
    let t: TestApp;
    afterAll(async () => {
      await t?.close();
    });

    it('indexes every file found at boot, in day folders, with the gaps where the holes are', async () => {
      t = await startTestApp({ env: QUIET });
      await t
        .http()
        .post('/api/v1/cameras')
        .send({ id: 'bk', name: 'Backlog', segment_seconds: 2 })
        .expect(201);
      await t.stopServer();
      const camDir = join(t.store.config.recordingsDirAbs, 'bk');
      const N = 600;
      const T = Math.floor(Date.now() / 1000) * 1000 - 2 * 3_600_000;
      const starts: number[] = [];
      for (let i = 0; i < N; i++) starts.push(T + i * 2000 + (i >= 400 ? 10_000 : 0)); // one 10 s hole
      for (const ms of starts) {
        mkdirSync(join(camDir, day(ms)), { recursive: true });
        const p = join(camDir, day(ms), name(ms));
        copyFileSync(two, p);
        utimesSync(p, (ms + 2000) / 1000, (ms + 2000) / 1000);
      }

      t = await startTestApp({ env: QUIET, store: t.store });
      const segs = await waitFor(
        async () => {
          const s = await segments(t, 'bk');
          return s.length >= N ? s : null;
        },
        60_000,
        'the backlog indexed',
      );
      expect(segs.map((s) => s.path)).toEqual(starts.map((ms) => `bk/${day(ms)}/${name(ms)}`));
      const gaps = (await t.http().get('/api/v1/cameras/bk/recording-gaps').expect(200)).body;
      expect(gaps).toEqual([
        expect.objectContaining({
          gap_start: new Date(starts[399] + 2000).toISOString(),
          gap_end: new Date(starts[400]).toISOString(),
          gap_seconds: 10,
        }),
      ]);
      const tl = (await t.http().get('/api/v1/cameras/bk/timeline').expect(200)).body;
      expect(tl.ranges.map((r: { seconds: number }) => r.seconds)).toEqual([800, 400]);
    });
  });

  describe('segments known as ffmpeg closes them', () => {
    let t: TestApp;
    let cam: TestCamera;
    afterAll(async () => {
      await t?.close();
      await cam?.stop();
    });

    it('rows appear as segments close, with no scan tick (indexer interval one hour)', async () => {
      t = await startTestApp({ env: { ...QUIET, HELDAR_RECORDER_ENABLED: 'true' } });
      cam = await startTestCamera({ width: 320, height: 240, fps: 5 });
      await t
        .http()
        .post('/api/v1/cameras')
        .send({ id: 'live', name: 'Live', main_stream_url: cam.url, segment_seconds: 2 })
        .expect(201);
      const segs = await waitFor(
        async () => {
          const s = await segments(t, 'live');
          return s.length >= 3 ? s : null;
        },
        25_000,
        'three segments indexed without a scan',
      );
      const today = day(Date.now());
      for (const s of segs) expect(s.path).toMatch(/^live\/\d{4}-\d{2}-\d{2}\/\d{8}_\d{6}\.mp4$/);
      expect(existsSync(join(t.store.config.recordingsDirAbs, segs[0].path))).toBe(true);
      // Today's and tomorrow's folders are made ahead (ffmpeg does not create them).
      const folders = readdirSync(join(t.store.config.recordingsDirAbs, 'live'));
      expect(folders).toEqual(expect.arrayContaining([today, day(Date.now() + 86_400_000)]));
      const gaps = (await t.http().get('/api/v1/cameras/live/gaps').expect(200)).body;
      expect(gaps.gap_count).toBe(0);
    });
  });
});
