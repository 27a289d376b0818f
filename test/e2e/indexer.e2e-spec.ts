import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { IndexerService } from '../../src/timeline/indexer.service';
import { ffprobeJson } from '../fixtures/ffprobe';
import { rawQuery, startTestApp, type TestApp } from '../support/test-app';
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
/** Where the recorder writes a segment opened at `ms`: its UTC day folder. */
const rel = (ms: number) => `${new Date(ms).toISOString().slice(0, 10)}/${name(ms)}`;

describe(`indexer on real files (${ENGINE})`, () => {
  let t: TestApp;
  let indexer: IndexerService;
  let dir: string;
  const T = Math.floor(Date.now() / 1000) * 1000 - 600_000; // ten minutes ago: every file is finished
  const work = mkdtempSync(join(tmpdir(), 'heldar-clips-'));
  const two = clip(work, 2);
  const four = clip(work, 4);

  const place = (src: string, at: number, mtime: number): string => {
    const p = join(dir, rel(at));
    mkdirSync(dirname(p), { recursive: true });
    copyFileSync(src, p);
    utimesSync(p, mtime / 1000, mtime / 1000);
    return p;
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { HELDAR_INDEXER_INTERVAL_S: '3600' } }); // the test drives the scans
    await t
      .http()
      .post('/api/v1/cameras')
      .send({ id: 'idx', name: 'Indexed', segment_seconds: 2 })
      .expect(201);
    indexer = t.app.get(IndexerService);
    dir = join(t.store.config.recordingsDirAbs, 'idx');
    mkdirSync(dir, { recursive: true });
  });

  afterAll(async () => {
    await t?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('derives times from the media, clamps overlaps, records a gap and ignores other files', async () => {
    place(two, T, T + 2000); // [T, T+2]
    place(two, T + 1000, T + 3500); // [T+1.5, T+3.5]: overlaps the first by 0.5 s
    place(two, T + 10_000, T + 12_000); // [T+10, T+12]: a 6.5 s hole
    writeFileSync(join(dir, 'notes.txt'), 'not a segment');
    await indexer.scanCamera('idx');

    const segs = (await t.http().get('/api/v1/cameras/idx/segments').expect(200)).body;
    expect(segs.map((s: { start_time: string; end_time: string }) => [s.start_time, s.end_time])).toEqual([
      [new Date(T).toISOString(), new Date(T + 1500).toISOString()],
      [new Date(T + 1500).toISOString(), new Date(T + 3500).toISOString()],
      [new Date(T + 10_000).toISOString(), new Date(T + 12_000).toISOString()],
    ]);
    expect(segs[0]).toMatchObject({ codec: 'h264', width: 160, height: 120, fps: 5, duration_s: 2 });
    expect(segs[0].url).toBe(`/media/recordings/idx/${rel(T)}`);

    const gaps = (await t.http().get('/api/v1/cameras/idx/recording-gaps').expect(200)).body;
    expect(gaps).toEqual([
      expect.objectContaining({
        gap_start: new Date(T + 3500).toISOString(),
        gap_end: new Date(T + 10_000).toISOString(),
        gap_seconds: 6.5,
        cause: 'unknown',
        fill_state: 'pending',
      }),
    ]);
    const tl = (await t.http().get('/api/v1/cameras/idx/timeline').expect(200)).body;
    expect(tl.ranges.map((r: { seconds: number }) => r.seconds)).toEqual([3.5, 2]);
    expect(tl.recorded_seconds).toBe(5.5);

    const win = `from=${new Date(T - 5000).toISOString()}&to=${new Date(T + 20_000).toISOString()}`;
    const holes = (await t.http().get(`/api/v1/cameras/idx/gaps?${win}`).expect(200)).body;
    expect(holes.gaps.map((g: { seconds: number }) => g.seconds)).toEqual([5, 6.5, 8]);
  });

  it('a second scan changes nothing; a file that grew is repaired', async () => {
    await indexer.scanCamera('idx');
    expect((await t.http().get('/api/v1/cameras/idx/segments').expect(200)).body).toHaveLength(3);
    place(four, T + 10_000, T + 14_000); // same name, now 4 s long
    await indexer.scanCamera('idx');
    const segs = (await t.http().get('/api/v1/cameras/idx/segments').expect(200)).body;
    expect(segs).toHaveLength(3);
    expect(segs[2]).toMatchObject({ duration_s: 4, end_time: new Date(T + 14_000).toISOString() });
  });

  it('an unreadable file is skipped after a few tries, without breaking the scan', async () => {
    writeFileSync(join(dir, rel(T + 30_000)), Buffer.alloc(4096, 7));
    utimesSync(join(dir, rel(T + 30_000)), (T + 31_000) / 1000, (T + 31_000) / 1000);
    for (let i = 0; i < 4; i++) await indexer.scanCamera('idx');
    place(two, T + 40_000, T + 42_000);
    await indexer.scanCamera('idx');
    const segs = (await t.http().get('/api/v1/cameras/idx/segments').expect(200)).body;
    expect(segs.map((s: { path: string }) => s.path)).toEqual([
      `idx/${rel(T)}`,
      `idx/${rel(T + 1000)}`,
      `idx/${rel(T + 10_000)}`,
      `idx/${rel(T + 40_000)}`,
    ]);
  });

  it('a finished file that holds only an MP4 header (or nothing) is removed, not left unindexed', async () => {
    // What ffmpeg leaves when it is stopped right after opening the next segment: ftyp, no fragment.
    const ftyp = Buffer.from('0000001c6674797069736f6d0000020069736f6d69736f32', 'hex');
    const husk = join(dir, rel(T + 50_000));
    const zero = join(dir, rel(T + 52_000));
    writeFileSync(husk, Buffer.concat([ftyp, Buffer.alloc(28 - ftyp.length)]));
    writeFileSync(zero, Buffer.alloc(0));
    for (const f of [husk, zero]) utimesSync(f, (T + 53_000) / 1000, (T + 53_000) / 1000);
    place(two, T + 60_000, T + 62_000); // a later file: the two above are finished
    await indexer.scanCamera('idx');
    expect(existsSync(husk)).toBe(false);
    expect(existsSync(zero)).toBe(false);
    const paths = (await t.http().get('/api/v1/cameras/idx/segments').expect(200)).body.map(
      (s: { path: string }) => s.path,
    );
    expect(paths).not.toContain(`idx/${rel(T + 50_000)}`);
    expect(paths).toContain(`idx/${rel(T + 60_000)}`);
  });

  it('serves a segment from its url, whole and by HTTP Range', async () => {
    const seg = (await t.http().get('/api/v1/cameras/idx/segments').expect(200)).body[0];
    const bytes = readFileSync(join(dir, rel(T)));
    const whole = await t.http().get(seg.url).buffer(true).expect(200);
    expect(whole.headers['content-type']).toBe('video/mp4');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(Buffer.compare(whole.body as Buffer, bytes)).toBe(0);
    const part = await t.http().get(seg.url).set('Range', 'bytes=100-199').buffer(true).expect(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.compare(part.body as Buffer, bytes.subarray(100, 200))).toBe(0);
    await t
      .http()
      .get(seg.url)
      .set('Range', `bytes=${bytes.length + 10}-`)
      .expect(416);
  });

  it('never serves a file outside the recordings root, however the path is spelled', async () => {
    writeFileSync(join(t.store.dataDir, 'outside.txt'), 'do not serve');
    symlinkSync(join(t.store.dataDir, 'outside.txt'), join(dir, 'link.mp4'));
    for (const path of [
      '/media/recordings/idx/..%2f..%2foutside.txt',
      '/media/recordings/%2e%2e/%2e%2e/outside.txt',
      '/media/recordings/idx%2f..%2f..%2foutside.txt',
      '/media/recordings/idx/..%5c..%5coutside.txt',
      '/media/recordings/idx/link.mp4',
      '/media/recordings/idx/missing.mp4',
      '/media/recordings/nope/x.mp4',
    ]) {
      const res = await t.http().get(path);
      expect({ path, status: [400, 403, 404].includes(res.status) }).toEqual({ path, status: true });
      expect(res.text ?? '').not.toContain('do not serve');
    }
    const dots = await t.http().get('/media/recordings/idx/../../outside.txt');
    expect([400, 404]).toContain(dots.status);
    expect(dots.text ?? '').not.toContain('do not serve');
  });

  it('evidence locks hold segments under an incident', async () => {
    const seg = (await t.http().get('/api/v1/cameras/idx/segments').expect(200)).body[1];
    const locked = await t
      .http()
      .post(`/api/v1/segments/${seg.id}/evidence-lock`)
      .send({ incident_id: 'case-42' })
      .expect(200);
    expect(locked.body).toMatchObject({ id: seg.id, evidence_locked: true, incident_id: 'case-42' });
    const incidents = (await t.http().get('/api/v1/incidents').expect(200)).body;
    expect(incidents).toEqual([
      expect.objectContaining({ incident_id: 'case-42', segment_count: 1, total_bytes: seg.size_bytes }),
    ]);
    const segs = (await t.http().get('/api/v1/incidents/case-42/segments').expect(200)).body;
    expect(segs.map((s: { id: string }) => s.id)).toEqual([seg.id]);
    const unlocked = await t.http().delete(`/api/v1/segments/${seg.id}/evidence-lock`).expect(200);
    expect(unlocked.body).toMatchObject({ evidence_locked: false, incident_id: 'case-42' });
    await t.http().post('/api/v1/segments/seg_nope/evidence-lock').send({}).expect(404);
    await t
      .http()
      .post(`/api/v1/segments/${seg.id}/evidence-lock`)
      .send({ incident_id: 'bad id!' })
      .expect(400);
  });

  it('exports a clip across three segments: plays, covers the right seconds, reports the gap, hashes the file', async () => {
    const from = new Date(T).toISOString();
    const to = new Date(T + 12_000).toISOString();
    const res = await t.http().post('/api/v1/cameras/idx/clip').send({ from, to }).expect(201);
    expect(res.body).toMatchObject({
      camera_id: 'idx',
      from,
      to,
      requested_seconds: 12,
      covered_seconds: 5.5,
      gaps: [{ from: new Date(T + 3500).toISOString(), to: new Date(T + 10_000).toISOString() }],
      segment_count: 3,
    });
    const file = await t.http().get(res.body.url).buffer(true).expect(200);
    expect(file.headers['content-type']).toBe('video/mp4');
    expect(
      createHash('sha256')
        .update(file.body as Buffer)
        .digest('hex'),
    ).toBe(res.body.sha256);
    expect((file.body as Buffer).length).toBe(res.body.size_bytes);
    const local = join(t.store.config.clipsDirAbs, res.body.url.split('/').pop());
    const probe = await ffprobeJson(local);
    expect(probe.streams[0].codec_name).toBe('h264');
    expect(Number(probe.format?.duration)).toBeGreaterThan(7);
    // the read-locks taken for the export are released
    const segs = (await t.http().get('/api/v1/cameras/idx/segments').expect(200)).body;
    expect(segs.every((s: { locked: number }) => s.locked === 0)).toBe(true);
    const listed = (await t.http().get('/api/v1/clips').expect(200)).body;
    expect(listed.map((c: { id: string }) => c.id)).toContain(res.body.id);
    expect((await t.http().get(`/api/v1/clips/${res.body.id}`).expect(200)).body.sha256).toBe(
      res.body.sha256,
    );
  });

  it('a snapshot at a recorded time is a JPEG of that camera; a time in a hole is a 404', async () => {
    const at = new Date(T + 1000).toISOString();
    const res = await t.http().get(`/api/v1/cameras/idx/snapshot?at=${at}`).buffer(true).expect(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.headers['cache-control']).toBe('no-store');
    const jpeg = res.body as Buffer;
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    const local = join(work, 'snap.jpg');
    writeFileSync(local, jpeg);
    expect((await ffprobeJson(local)).streams[0]).toMatchObject({
      codec_name: 'mjpeg',
      width: 160,
      height: 120,
    });
    const hole = await t
      .http()
      .get(`/api/v1/cameras/idx/snapshot?at=${new Date(T + 6000).toISOString()}`)
      .expect(404);
    expect(hole.body).toEqual({ error: 'no footage at that time', code: 'NO_FOOTAGE' });
    await t.http().get('/api/v1/cameras/idx/snapshot?at=noon').expect(400);
    expect((await t.http().get('/api/v1/cameras/idx/snapshot').expect(400)).body.code).toBe('NO_STREAM_URL');
  });

  it('clip requests outside what exists or allowed are clear 4xx', async () => {
    const at = (s: number) => new Date(T + s * 1000).toISOString();
    expect(
      (
        await t
          .http()
          .post('/api/v1/cameras/idx/clip')
          .send({ from: at(100), to: at(110) })
          .expect(404)
      ).body.code,
    ).toBe('NO_FOOTAGE');
    await t
      .http()
      .post('/api/v1/cameras/idx/clip')
      .send({ from: at(10), to: at(5) })
      .expect(400);
    await t
      .http()
      .post('/api/v1/cameras/idx/clip')
      .send({ from: at(0), to: at(3601) })
      .expect(400);
    await t
      .http()
      .post('/api/v1/cameras/idx/clip')
      .send({ from: 'soon', to: at(5) })
      .expect(400);
    await t.http().get('/api/v1/clips/clip_nope').expect(404);
    await t
      .http()
      .get(`/media/clips/clip_${'0'.repeat(32)}.mp4`)
      .expect(404);
  });

  it('rejects a window whose start is after its end, and unknown cameras', async () => {
    const bad = await t
      .http()
      .get(`/api/v1/cameras/idx/segments?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`);
    expect(bad.status).toBe(400);
    expect((await t.http().get('/api/v1/cameras/idx/segments?from=yesterday').expect(400)).body.code).toBe(
      'VALIDATION_FAILED',
    );
    await t.http().get('/api/v1/cameras/nope/timeline').expect(404);
  });
});

describe(`indexer at shutdown (${ENGINE})`, () => {
  it('a segment ffmpeg closed as the kernel stops is committed before the database closes', async () => {
    const t = await startTestApp({ env: { HELDAR_INDEXER_INTERVAL_S: '3600' } });
    const work = mkdtempSync(join(tmpdir(), 'heldar-clips-'));
    try {
      await t
        .http()
        .post('/api/v1/cameras')
        .send({ id: 'sd', name: 'Shutdown', segment_seconds: 2 })
        .expect(201);
      const at = Math.floor(Date.now() / 1000) * 1000 - 60_000;
      const p = join(t.store.config.recordingsDirAbs, 'sd', rel(at));
      mkdirSync(dirname(p), { recursive: true });
      copyFileSync(clip(work, 2), p);
      // The recorder's last line arrives while the kernel shuts down: the indexer finishes it first.
      t.app.get(IndexerService).segmentClosed({ cameraId: 'sd', name: name(at), reportedAtMs: Date.now() });
      await t.stopServer();
      const rows = await rawQuery(t, "SELECT path FROM segments WHERE camera_id = 'sd'");
      expect(rows.map((r) => r.path)).toEqual([`sd/${rel(at)}`]);
    } finally {
      await t.store.cleanup();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
