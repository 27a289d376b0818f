import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, statfsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IndexerService } from '../../src/timeline/indexer.service';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const work = mkdtempSync(join(tmpdir(), 'heldar-system-'));
const SEGMENT = join(work, 'seg.mp4');
execFileSync('ffmpeg', [
  '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5:duration=2',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-pix_fmt', 'yuv420p', '-y', SEGMENT,
]); // prettier-ignore
const fileName = (ms: number) =>
  new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15) + '.mp4';

describe(`GET /api/v1/system (${ENGINE})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { HELDAR_INDEXER_INTERVAL_S: '3600' } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('reports cameras, segments, recordings bytes, the volume, the 24 h write rate and the runway', async () => {
    await t.http().post('/api/v1/cameras').send({ id: 'sy1', name: 'One', segment_seconds: 2 }).expect(201);
    await t.http().post('/api/v1/cameras').send({ id: 'sy2', name: 'Two' }).expect(201);
    const dir = join(t.store.config.recordingsDirAbs, 'sy1');
    mkdirSync(dir, { recursive: true });
    const end = Math.floor(Date.now() / 1000) * 1000 - 600_000;
    for (const e of [end - 10_000, end]) {
      const p = join(dir, fileName(e - 2000));
      copyFileSync(SEGMENT, p);
      utimesSync(p, e / 1000, e / 1000);
    }
    await t.app.get(IndexerService).scanCamera('sy1');
    const segs = (await t.http().get('/api/v1/cameras/sy1/segments').expect(200)).body as Array<{
      size_bytes: number;
      start_time: string;
      end_time: string;
    }>;
    expect(segs).toHaveLength(2);
    const bytes = segs[0].size_bytes + segs[1].size_bytes;

    const sys = (await t.http().get('/api/v1/system').expect(200)).body;
    expect(sys).toMatchObject({
      name: 'Heldar Core',
      cameras_total: 2,
      cameras_recording: 0,
      recorder_enabled: false,
      segments_total: 2,
      recordings_bytes: bytes,
      storage: {
        recordings_bytes: bytes,
        segment_count: 2,
        oldest_segment: segs[0].start_time,
        newest_segment: segs[1].end_time,
        write_rate_bytes_per_day: bytes,
      },
    });
    expect(sys.uptime_seconds).toBeGreaterThanOrEqual(0);
    const fs = statfsSync(t.store.config.recordingsDirAbs);
    expect(sys.storage.disk.total_bytes).toBe(fs.blocks * fs.bsize);
    expect(Math.abs(sys.storage.disk.free_bytes - fs.bavail * fs.bsize)).toBeLessThan(512 * 1024 * 1024);
    expect(sys.storage.projected_days_remaining).toBeCloseTo(sys.storage.disk.free_bytes / bytes, 0);
  });
});
