import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  statfsSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageAdapter } from '../../src/media/storage.adapter';
import { IndexerService } from '../../src/timeline/indexer.service';
import { TimelineService } from '../../src/timeline/timeline.service';
import { RetentionService, type SweepReport } from '../../src/retention/retention.service';
import { rawQuery, startTestApp, type TestApp, withClockAhead } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const GIB = 1024 ** 3;
const work = mkdtempSync(join(tmpdir(), 'heldar-retention-'));
/** A real 2-second H.264 MP4 of about half a megabyte (lossless, so deleting it frees real space). */
const SEGMENT = join(work, 'seg.mp4');
execFileSync('ffmpeg', [
  '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=10:duration=2',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-g', '10', '-pix_fmt', 'yuv420p', '-y', SEGMENT,
]); // prettier-ignore

const fileName = (ms: number) =>
  new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15) + '.mp4';

interface Seg {
  id: string;
  path: string;
  size_bytes: number;
  start_time: string;
  evidence_locked: boolean;
}

async function camera(t: TestApp, id: string, extra: Record<string, unknown> = {}): Promise<void> {
  await t
    .http()
    .post('/api/v1/cameras')
    .send({ id, name: id, segment_seconds: 2, ...extra })
    .expect(201);
}

/** `count` real segment files for `cameraId`, 10 s apart, the last one ending `endAgoMs` ago; indexed. */
async function record(t: TestApp, cameraId: string, count: number, endAgoMs = 600_000): Promise<Seg[]> {
  const dir = join(t.store.config.recordingsDirAbs, cameraId);
  mkdirSync(dir, { recursive: true });
  const lastEnd = Math.floor((Date.now() - endAgoMs) / 1000) * 1000;
  for (let i = 0; i < count; i++) {
    const end = lastEnd - (count - 1 - i) * 10_000;
    const p = join(dir, fileName(end - 2000));
    copyFileSync(SEGMENT, p);
    utimesSync(p, end / 1000, end / 1000);
  }
  await t.app.get(IndexerService).scanCamera(cameraId);
  return segments(t, cameraId);
}

async function segments(t: TestApp, cameraId: string): Promise<Seg[]> {
  return (await t.http().get(`/api/v1/cameras/${cameraId}/segments?limit=1000`).expect(200)).body as Seg[];
}

const onDisk = (t: TestApp, s: Seg) => existsSync(join(t.store.config.recordingsDirAbs, s.path));

async function sweep(t: TestApp, query = ''): Promise<SweepReport> {
  return (await t.http().post(`/api/v1/system/retention/sweep${query}`).expect(200)).body as SweepReport;
}

async function events(
  t: TestApp,
  type: string,
): Promise<Array<{ severity: string; payload: Record<string, unknown> }>> {
  return (await t.http().get(`/api/v1/events?event_type=${type}`).expect(200)).body;
}

describe(`retention on real files (${ENGINE})`, () => {
  let t: TestApp;

  beforeEach(async () => {
    // The tests drive the indexer and the sweeps themselves.
    t = await startTestApp({
      env: { HELDAR_INDEXER_INTERVAL_S: '3600', HELDAR_RETENTION_INTERVAL_S: '86400' },
    });
    // The boot sweep runs at once; let it finish so it cannot take the files a test places.
    await t.app.get(RetentionService).sweep();
  });

  afterEach(async () => {
    await t?.close();
  });

  it('a cap below usage prunes oldest first by fair share, never evidence- or read-locked footage', async () => {
    await camera(t, 'ra');
    await camera(t, 'rb');
    await camera(t, 'rc');
    const ra = await record(t, 'ra', 10);
    const rb = await record(t, 'rb', 4);
    const rc = await record(t, 'rc', 2);
    const size = ra[0].size_bytes;
    expect([...ra, ...rb, ...rc].every((s) => s.size_bytes === size)).toBe(true);
    await t
      .http()
      .post(`/api/v1/segments/${ra[0].id}/evidence-lock`)
      .send({ incident_id: 'case-1' })
      .expect(200);
    await t.app.get(TimelineService).lockForRead([rb[0].id], true); // an export is reading it

    // 16 segments; cap 8 → budget for unlocked footage 6: rc keeps its 2, rb and ra are levelled at 2.
    const put = await t
      .http()
      .put('/api/v1/system/retention')
      .send({ max_recordings_gb: (8 * size) / GIB })
      .expect(200);
    expect(put.body).toMatchObject({ max_recordings_bytes: 8 * size, max_overridden: true });

    const report = await sweep(t);
    expect(report.size_cap).toMatchObject({ deleted: 8, bytes: 8 * size });
    expect(report.size_cap.cameras).toEqual({
      ra: { deleted: 7, bytes: 7 * size },
      rb: { deleted: 1, bytes: size },
    });

    const keptRa = await segments(t, 'ra');
    expect(keptRa.map((s) => s.id)).toEqual([ra[0].id, ra[8].id, ra[9].id]); // the locked one + the newest two
    const keptRb = await segments(t, 'rb');
    expect(keptRb.map((s) => s.id)).toEqual([rb[0].id, rb[2].id, rb[3].id]);
    expect((await segments(t, 'rc')).length).toBe(2);
    for (const s of ra.slice(1, 8)) expect(onDisk(t, s)).toBe(false);
    for (const s of [...keptRa, ...keptRb]) expect(onDisk(t, s)).toBe(true);

    const pressure = await events(t, 'disk_pressure');
    expect(pressure).toEqual([
      expect.objectContaining({
        severity: 'warning',
        payload: expect.objectContaining({ reason: 'size_cap', deleted: 8, max_bytes: 8 * size }),
      }),
    ]);

    // At the cap now: a second sweep deletes nothing.
    expect((await sweep(t)).size_cap.deleted).toBe(0);
  });

  it('a floor above free space prunes what it may, keeps evidence, then raises a critical event', async () => {
    await camera(t, 'rf');
    const rf = await record(t, 'rf', 6);
    await t.http().post(`/api/v1/segments/${rf[2].id}/evidence-lock`).send({}).expect(200);
    const fs = statfsSync(t.store.config.recordingsDirAbs);
    const free = fs.bavail * fs.bsize;
    await t
      .http()
      .put('/api/v1/system/retention')
      .send({ min_free_disk_gb: (free + GIB) / GIB })
      .expect(200);

    const report = await sweep(t);
    expect(report.free_floor.deleted).toBe(5);
    expect(report.pressure).toEqual(['floor_blocked_by_protected_share', 'free_floor']);
    expect((await segments(t, 'rf')).map((s) => s.id)).toEqual([rf[2].id]);
    const critical = (await events(t, 'disk_pressure')).map((e) => [e.severity, e.payload.reason]);
    expect(critical).toEqual(
      expect.arrayContaining([
        ['critical', 'floor_blocked_by_protected_share'],
        ['critical', 'free_floor'],
      ]),
    );
    // A floor the volume can never satisfy is refused up front.
    const tooBig = await t
      .http()
      .put('/api/v1/system/retention')
      .send({ min_free_disk_gb: (fs.blocks * fs.bsize) / GIB + 1 })
      .expect(400);
    expect(tooBig.body.error).toMatch(/not below the size of the recordings volume/);
  });

  it('when deleting gives no space back (files hard-linked elsewhere) the floor stops with prune_not_recovering_space', async () => {
    await camera(t, 'rh');
    const rh = await record(t, 'rh', 8);
    const hold = join(t.store.dataDir, 'backup-tool');
    mkdirSync(hold);
    rh.forEach((s, i) => linkSync(join(t.store.config.recordingsDirAbs, s.path), join(hold, `${i}.mp4`)));
    const fs = statfsSync(t.store.config.recordingsDirAbs);
    await t
      .http()
      .put('/api/v1/system/retention')
      .send({ min_free_disk_gb: (fs.bavail * fs.bsize + GIB) / GIB })
      .expect(200);

    const report = await sweep(t);
    expect(report.pressure).toEqual(['prune_not_recovering_space', 'free_floor']);
    const ev = (await events(t, 'disk_pressure')).find(
      (e) => e.payload.reason === 'prune_not_recovering_space',
    );
    expect(ev?.severity).toBe('critical');
    // It stopped after one batch instead of looping over the 200 iterations.
    expect(report.free_floor.deleted).toBeGreaterThan(0);
    expect(report.duration_ms).toBeLessThan(60_000);
  });

  it('the free-disk floor deletes clips (oldest first, never evidence-locked ones) before any recording', async () => {
    await camera(t, 'rk');
    const segs = await record(t, 'rk', 4);
    const clipOf = async (i: number) =>
      (
        await t
          .http()
          .post('/api/v1/cameras/rk/clip')
          .send({
            from: segs[i].start_time,
            to: new Date(Date.parse(segs[i].start_time) + 1000).toISOString(),
          })
          .expect(201)
      ).body as { id: string; url: string; size_bytes: number };
    const c0 = await clipOf(0);
    const c1 = await clipOf(1);
    const c2 = await clipOf(2);
    const locked = await t.http().post(`/api/v1/clips/${c1.id}/evidence-lock`).expect(200);
    expect(locked.body).toMatchObject({ id: c1.id, evidence_locked: true });
    const clipFile = (c: { url: string }) => join(t.store.config.clipsDirAbs, c.url.split('/').pop()!);

    // A simulated volume: free = FREE + every byte deleted from the clips and recordings since now.
    const bytesIn = (dir: string) =>
      readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    const present = () =>
      bytesIn(t.store.config.clipsDirAbs) + bytesIn(join(t.store.config.recordingsDirAbs, 'rk'));
    const start = present();
    const FREE = 10 * GIB;
    t.app.get(StorageAdapter).diskStats = () =>
      Promise.resolve({ totalBytes: 100 * GIB, freeBytes: FREE + (start - present()) });
    // The deficit needs the oldest clip and half the next unlocked one (c1 is held: c2 goes).
    const floor = FREE + c0.size_bytes + c2.size_bytes / 2;
    await t
      .http()
      .put('/api/v1/system/retention')
      .send({ min_free_disk_gb: floor / GIB })
      .expect(200);

    const report = await sweep(t);
    expect(report.free_floor_clips).toEqual({ deleted: 2, bytes: c0.size_bytes + c2.size_bytes });
    expect(report.free_floor.deleted).toBe(0);
    expect(report.pressure).toEqual(['free_floor_clips']);
    expect((await segments(t, 'rk')).map((s) => s.id)).toEqual(segs.map((s) => s.id));
    for (const s of segs) expect(onDisk(t, s)).toBe(true);
    expect(existsSync(clipFile(c0))).toBe(false);
    expect(existsSync(clipFile(c2))).toBe(false);
    expect(existsSync(clipFile(c1))).toBe(true);
    await t.http().get(`/api/v1/clips/${c0.id}`).expect(404);

    // Nor does the clip TTL delete a held clip; released, it goes.
    await withClockAhead(t, 366 * 24 * 3_600_000, () => t.app.get(RetentionService).sweep());
    expect(existsSync(clipFile(c1))).toBe(true);
    expect((await t.http().get(`/api/v1/clips/${c1.id}`).expect(200)).body.evidence_locked).toBe(true);
    await t.http().delete(`/api/v1/clips/${c1.id}/evidence-lock`).expect(200);
    await withClockAhead(t, 366 * 24 * 3_600_000, () => t.app.get(RetentionService).sweep());
    expect(existsSync(clipFile(c1))).toBe(false);
  });

  it('footage written while the kernel was down is indexed by the orphan pass, never reclaimed', async () => {
    await camera(t, 'rw');
    const end = Math.floor(Date.now() / 1000) * 1000 - 2 * 3_600_000; // two hours old, never indexed
    // In its day folder, where the recorder writes.
    const dir = join(t.store.config.recordingsDirAbs, 'rw', new Date(end - 2000).toISOString().slice(0, 10));
    mkdirSync(dir, { recursive: true });
    const p = join(dir, fileName(end - 2000));
    copyFileSync(SEGMENT, p);
    utimesSync(p, end / 1000, end / 1000);
    const report = await sweep(t, '?orphans=true');
    expect(report.orphans).toEqual({ files: 0, bytes: 0 });
    expect(existsSync(p)).toBe(true);
    expect((await segments(t, 'rw')).length).toBe(1);
  });

  it('a sweep with nothing to delete touches no recording file or folder', async () => {
    await camera(t, 'rn');
    const held = await record(t, 'rn', 4, 2 * 3_600_000);
    // An old file no row knows, in a day folder: only the orphan pass may look at it.
    const stray = join(t.store.config.recordingsDirAbs, 'rn', '2020-01-01', '20200101_000000.mp4');
    mkdirSync(join(stray, '..'), { recursive: true });
    copyFileSync(SEGMENT, stray);
    const root = t.store.config.recordingsDirAbs;
    const storage = t.app.get(StorageAdapter);
    const touched: string[] = [];
    for (const name of [
      'listFiles',
      'listNames',
      'listDirs',
      'stat',
      'size',
      'remove',
      'removeEmptyDir',
      'rename',
    ] as const) {
      const original = storage[name].bind(storage) as (...a: unknown[]) => Promise<unknown>;
      (storage as unknown as Record<string, unknown>)[name] = (path: string, ...rest: unknown[]) => {
        if (path.startsWith(`${root}/`)) touched.push(`${name} ${path.slice(root.length + 1)}`);
        return original(path, ...rest);
      };
    }
    const report = await sweep(t);
    expect(report.orphans).toBeNull();
    expect(report.age.deleted + report.camera_quota.deleted + report.size_cap.deleted).toBe(0);
    expect(touched).toEqual([]);
    expect(existsSync(stray)).toBe(true);
    expect((await segments(t, 'rn')).map((s) => s.id)).toEqual(held.map((s) => s.id));
  });

  it('age: footage older than the camera retention goes, newer stays', async () => {
    await camera(t, 'rd', { retention_hours: 1 });
    const old = await record(t, 'rd', 3, 3 * 3_600_000);
    const fresh = (await record(t, 'rd', 2, 60_000)).filter((s) => !old.some((o) => o.id === s.id));
    expect(fresh.length).toBe(2);
    const report = await sweep(t);
    expect(report.age).toMatchObject({
      deleted: 3,
      cameras: { rd: expect.objectContaining({ deleted: 3 }) },
    });
    expect((await segments(t, 'rd')).map((s) => s.id)).toEqual(fresh.map((s) => s.id));
    for (const s of old) expect(onDisk(t, s)).toBe(false);
    const [ev] = await events(t, 'retention_delete');
    expect(ev.payload).toMatchObject({ reason: 'age', deleted: 3 });
  });

  it('a per-camera quota trims only that camera', async () => {
    await camera(t, 'rq');
    await camera(t, 'rr');
    const rq = await record(t, 'rq', 5);
    const size = rq[0].size_bytes;
    await t
      .http()
      .patch('/api/v1/cameras/rq')
      .send({ storage_quota_bytes: 2 * size })
      .expect(200);
    await record(t, 'rr', 5);
    const report = await sweep(t);
    expect(report.camera_quota.cameras).toEqual({ rq: { deleted: 3, bytes: 3 * size } });
    expect((await segments(t, 'rq')).map((s) => s.id)).toEqual([rq[3].id, rq[4].id]);
    expect((await segments(t, 'rr')).length).toBe(5);
  });

  it('reclaims orphan files older than an hour, and only those', async () => {
    await camera(t, 'ro');
    const kept = await record(t, 'ro', 2, 3 * 3_600_000); // indexed and old: not orphans
    const root = t.store.config.recordingsDirAbs;
    const twoHoursAgo = (Date.now() - 2 * 3_600_000) / 1000;
    // Unreadable and not a bare header (the indexer removes those at once): it gives up on it.
    const junk = join(root, 'ro', '20200101_000000.mp4');
    const junkBytes = Buffer.alloc(8192, 'not a video');
    writeFileSync(junk, junkBytes);
    utimesSync(junk, twoHoursAgo, twoHoursAgo);
    // The newest file, touched just now: still being written (neither indexed nor reclaimed).
    const fresh = join(root, 'ro', '20991231_235959.mp4');
    writeFileSync(fresh, 'x');
    mkdirSync(join(root, 'gone'));
    const ofDeletedCamera = join(root, 'gone', '20200101_000000.mp4');
    copyFileSync(SEGMENT, ofDeletedCamera);
    utimesSync(ofDeletedCamera, twoHoursAgo, twoHoursAgo);
    const other = join(root, 'ro', 'notes.txt');
    writeFileSync(other, 'operator notes');
    utimesSync(other, twoHoursAgo, twoHoursAgo);

    // The indexer tries an unreadable file three times before giving up on it.
    for (let i = 0; i < 3; i++) await t.app.get(IndexerService).scanCamera('ro');
    // A plain sweep leaves them to the orphan pass (hourly on its own, or asked for).
    // (the indexer moved the flat file into its day folder)
    const junkInDay = join(root, 'ro', '2020-01-01', '20200101_000000.mp4');
    expect((await sweep(t)).orphans).toBeNull();
    expect(existsSync(junkInDay)).toBe(true);
    expect(existsSync(ofDeletedCamera)).toBe(true);
    const report = await sweep(t, '?orphans=true');
    expect(report.orphans).toEqual({ files: 2, bytes: junkBytes.length + kept[0].size_bytes });
    expect(existsSync(junk)).toBe(false);
    expect(existsSync(junkInDay)).toBe(false);
    expect(existsSync(ofDeletedCamera)).toBe(false);
    expect(existsSync(join(root, 'gone'))).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(other)).toBe(true);
    for (const s of kept) expect(onDisk(t, s)).toBe(true);
    const [ev] = await events(t, 'recording_orphans');
    expect(ev).toMatchObject({ severity: 'warning', payload: { reclaimed: 2 } });
  });

  it('a camera holding evidence cannot be deleted until the lock is released', async () => {
    await camera(t, 're');
    const [seg] = await record(t, 're', 1);
    await t.http().post(`/api/v1/segments/${seg.id}/evidence-lock`).send({}).expect(200);
    const refused = await t.http().delete('/api/v1/cameras/re').expect(409);
    expect(refused.body.code).toBe('CAMERA_HAS_EVIDENCE');
    expect(refused.body.error).toMatch(/1 evidence-locked segment/);
    expect(onDisk(t, seg)).toBe(true);
    await t.http().delete(`/api/v1/segments/${seg.id}/evidence-lock`).expect(200);
    await t.http().delete('/api/v1/cameras/re').expect(204);
  });

  it('row TTLs: old audit rows go behind a checkpoint that keeps the chain verifiable; old clips go with their files', async () => {
    await camera(t, 'rt');
    const segs = await record(t, 'rt', 3);
    const clip = await t
      .http()
      .post('/api/v1/cameras/rt/clip')
      .send({ from: segs[0].start_time, to: new Date(Date.parse(segs[1].start_time) + 1000).toISOString() })
      .expect(201);
    const clipFile = join(t.store.config.clipsDirAbs, String(clip.body.url).split('/').pop()!);
    expect(existsSync(clipFile)).toBe(true);
    const auditBefore = (await rawQuery(t, 'SELECT COUNT(*) AS n FROM audit_log'))[0].n;
    expect(Number(auditBefore)).toBeGreaterThanOrEqual(2); // camera created, clip exported

    // 366 days later the audit rows, events and the clip are all past their TTL.
    await withClockAhead(t, 366 * 24 * 3_600_000, () => t.app.get(RetentionService).sweep());
    expect(existsSync(clipFile)).toBe(false);
    await t.http().get(`/api/v1/clips/${clip.body.id}`).expect(404);
    const report = t.app.get(RetentionService).lastSweep!;
    expect(report.rows).toMatchObject({ audit_log: Number(auditBefore), clips: 1 });
    expect(report.rows.events).toBeGreaterThan(0);
    // The checkpoint is a keyed row of the chain itself (the audit_checkpoints table is legacy).
    expect(await rawQuery(t, "SELECT detail FROM audit_log WHERE action = 'audit_checkpoint'")).toHaveLength(
      1,
    );

    // New rows chain onto the checkpoint; verify holds.
    await t.http().put('/api/v1/system/retention').send({ max_recordings_gb: 50 }).expect(200);
    await t.http().put('/api/v1/system/retention').send({ max_recordings_gb: 60 }).expect(200);
    expect((await t.http().get('/api/v1/audit/verify').expect(200)).body).toMatchObject({ ok: true });
    // Removing a row outside retention (the oldest one kept) is caught.
    const [first] = await rawQuery(t, 'SELECT seq, id FROM audit_log ORDER BY seq ASC LIMIT 1');
    await rawDelete(t, `DELETE FROM audit_log WHERE seq = ${Number(first.seq)}`);
    const broken = (await t.http().get('/api/v1/audit/verify').expect(200)).body;
    expect(broken).toMatchObject({ ok: false, checked: 0 });
  });

  it('GET reports limits, usage and a forecast; PUT validates and null clears an override', async () => {
    await camera(t, 'rg', { retention_hours: 48 });
    await record(t, 'rg', 3);
    const before = (await t.http().get('/api/v1/system/retention').expect(200)).body;
    expect(before).toMatchObject({ max_recordings_bytes: 0, max_overridden: false, min_free_disk_bytes: 0 });
    const cam = before.forecast.cameras.find((c: { camera_id: string }) => c.camera_id === 'rg');
    expect(cam).toMatchObject({
      retention_hours: 48,
      limited_by: 'retention_hours',
      retention_achievable: true,
    });
    expect(cam.write_rate_bytes_per_day).toBe(before.usage.recordings_bytes);
    expect(before.forecast.bound_by).toBe('disk'); // no cap: the volume bounds the store

    // A cap that holds a quarter of a day of this camera's writing.
    const rate = cam.write_rate_bytes_per_day;
    const tight = (
      await t
        .http()
        .put('/api/v1/system/retention')
        .send({ max_recordings_gb: rate / 4 / GIB })
        .expect(200)
    ).body;
    const capped = tight.forecast.cameras.find((c: { camera_id: string }) => c.camera_id === 'rg');
    expect(tight.forecast.bound_by).toBe('cap');
    expect(capped).toMatchObject({ retention_achievable: false, limited_by: 'cap' });
    expect(capped.days_kept).toBeCloseTo(0.25, 2);

    for (const bad of [
      { max_recordings_gb: 0 },
      { max_recordings_gb: -1 },
      { min_free_disk_gb: 'lots' },
      {},
    ]) {
      const res = await t.http().put('/api/v1/system/retention').send(bad).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.error).toMatch(/max_recordings_gb|min_free_disk_gb/);
    }
    const cleared = (
      await t.http().put('/api/v1/system/retention').send({ max_recordings_gb: null }).expect(200)
    ).body;
    expect(cleared).toMatchObject({ max_recordings_bytes: 0, max_overridden: false });
    const audited = await rawQuery(
      t,
      "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'update_retention_limits'",
    );
    expect(Number(audited[0].n)).toBe(2);
  });
});

/** A DELETE on the store behind the kernel's back (tampering). */
async function rawDelete(t: TestApp, sql: string): Promise<void> {
  if (ENGINE === 'postgres') {
    await rawQuery(t, sql);
    return;
  }
  const { default: BetterSqlite3 } = await import('better-sqlite3');
  const db = new BetterSqlite3(t.store.config.sqlitePath);
  try {
    db.prepare(sql).run();
  } finally {
    db.close();
  }
}
