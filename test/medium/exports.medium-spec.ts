import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { AuditService } from '../../src/audit/audit.service';
import { SYSTEM_PRINCIPAL } from '../../src/auth/principal';
import { CamerasService } from '../../src/cameras/cameras.service';
import { UnavailableError } from '../../src/common/errors';
import { ExportsService } from '../../src/exports/exports.service';
import { MediaJobs } from '../../src/media/media-jobs';
import { RetentionService } from '../../src/retention/retention.service';
import { TimelineService } from '../../src/timeline/timeline.service';
import { startMediumKernel, type MediumKernel } from '../support/medium-kernel';
import { ENGINE } from '../support/test-db';

const HOUR = 3_600_000;

describe(`exports service on real segments (${ENGINE})`, () => {
  let k: MediumKernel;
  let exportsSvc: ExportsService;
  let timeline: TimelineService;

  beforeAll(async () => {
    // One media slot: a test can hold it and make an export wait.
    k = await startMediumKernel({ HELDAR_MEDIA_JOB_CONCURRENCY: '1' });
    exportsSvc = k.get(ExportsService);
    timeline = k.get(TimelineService);
  });

  afterAll(async () => {
    await k?.close();
  });

  const stillStored = async (cameraId: string) =>
    (await timeline.segmentsForExport(cameraId, new Date(0).toISOString(), new Date().toISOString())).length;

  it('an export waiting for a media slot keeps its segments: retention running meanwhile deletes none', async () => {
    const cam = await k.uniqueCamera('exwait');
    const segs = await k.record(cam, 3, 2 * HOUR); // 2 h old: past a 1 h retention
    let free!: () => void;
    const holder = k.get(MediaJobs).run(() => new Promise<void>((resolve) => (free = resolve)));
    const clip = exportsSvc.clip(SYSTEM_PRINCIPAL, cam, segs[0].startTime, segs[2].endTime);
    clip.catch(() => undefined); // judged below
    try {
      // Let the export reach its wait for the slot (it read-locks its segments first).
      for (
        let i = 0;
        i < 40 &&
        !(await timeline.segmentsForExport(cam, segs[0].startTime, segs[2].endTime)).every(
          (s) => s.locked > 0,
        );
        i++
      )
        await new Promise((r) => setTimeout(r, 50));
      await k.get(CamerasService).update(SYSTEM_PRINCIPAL, cam, { retention_hours: 1 });
      await k.get(RetentionService).sweep();
      expect(await stillStored(cam)).toBe(3);
    } finally {
      free();
      await holder;
    }
    const row = await clip;
    expect(row).toMatchObject({ cameraId: cam, segmentCount: 3 });
    expect(existsSync(join(k.store.config.clipsDirAbs, row.file))).toBe(true);
    // The locks are released on the way out: the next sweep deletes the footage.
    await k.get(RetentionService).sweep();
    expect(await stillStored(cam)).toBe(0);
  });

  it('a clip refused (no media slot in time: 503; the export failing: 500) releases its read-locks', async () => {
    const cam = await k.uniqueCamera('exbusy');
    const segs = await k.record(cam, 2);
    const locks = async () =>
      (await timeline.segmentsForExport(cam, segs[0].startTime, segs[1].endTime)).map((s) => s.locked);
    // The governor's refusal after its 10 s wait, without the wait.
    const refuse = jest
      .spyOn(k.get(MediaJobs), 'run')
      .mockRejectedValueOnce(
        new UnavailableError('too many media jobs in flight; retry shortly', 'MEDIA_BUSY', 5),
      );
    await expect(
      exportsSvc.clip(SYSTEM_PRINCIPAL, cam, segs[0].startTime, segs[1].endTime),
    ).rejects.toMatchObject({
      status: 503,
      code: 'MEDIA_BUSY',
    });
    refuse.mockRestore();
    expect(await locks()).toEqual([0, 0]);
    // Files no longer media under their rows: ffmpeg fails.
    for (const s of segs) writeFileSync(s.file, 'not an mp4');
    await expect(
      exportsSvc.clip(SYSTEM_PRINCIPAL, cam, segs[0].startTime, segs[1].endTime),
    ).rejects.toMatchObject({
      status: 500,
      code: 'EXPORT_FAILED',
    });
    expect(await locks()).toEqual([0, 0]);
  });

  it('a clip over a hole: the file, its SHA-256, coverage and gaps, an audit row', async () => {
    const cam = await k.uniqueCamera('exhole');
    const segs = await k.record(cam, 2); // 2 s each, 10 s apart: an 8 s hole between them
    const row = await exportsSvc.clip(SYSTEM_PRINCIPAL, cam, segs[0].startTime, segs[1].endTime);
    const file = join(k.store.config.clipsDirAbs, row.file);
    expect(row.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    expect(row).toMatchObject({ segmentCount: 2, requestedSeconds: 12, createdBy: 'system' });
    expect(row.coveredSeconds).toBeGreaterThanOrEqual(3);
    expect(row.coveredSeconds).toBeLessThanOrEqual(5);
    expect(row.gaps).toEqual([{ from: segs[0].endTime, to: segs[1].startTime }]);
    expect(await exportsSvc.get(SYSTEM_PRINCIPAL, row.id)).toMatchObject({
      id: row.id,
      sizeBytes: row.sizeBytes,
    });
    expect((await exportsSvc.list([cam], 10)).map((c) => c.id)).toEqual([row.id]);
    const audit = await k.get(AuditService).list({ targetId: row.id, limit: 10 });
    expect(audit.entries.map((a) => [a.action, a.detail])).toEqual([
      ['export_clip', { camera_id: cam, from: segs[0].startTime, to: segs[1].endTime, sha256: row.sha256 }],
    ]);
    // The segments are not left read-locked.
    const after = await timeline.segmentsForExport(cam, segs[0].startTime, segs[1].endTime);
    expect(after.map((s) => s.locked)).toEqual([0, 0]);
  });

  it('refuses a range without footage (404 NO_FOOTAGE), an empty or too long range (400)', async () => {
    const cam = await k.uniqueCamera('exnone');
    const at = Date.now() - HOUR;
    const iso = (ms: number) => new Date(ms).toISOString();
    await expect(exportsSvc.clip(SYSTEM_PRINCIPAL, cam, iso(at), iso(at + 10_000))).rejects.toMatchObject({
      status: 404,
      code: 'NO_FOOTAGE',
    });
    await expect(exportsSvc.clip(SYSTEM_PRINCIPAL, cam, iso(at), iso(at))).rejects.toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    await expect(exportsSvc.clip(SYSTEM_PRINCIPAL, cam, iso(at), iso(at + 3601_000))).rejects.toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
  });

  it('evidence: a held clip survives deleteClips and pruneClips; a released one goes with its file', async () => {
    const cam = await k.uniqueCamera('exev');
    const segs = await k.record(cam, 1);
    const held = await exportsSvc.clip(SYSTEM_PRINCIPAL, cam, segs[0].startTime, segs[0].endTime);
    const loose = await exportsSvc.clip(SYSTEM_PRINCIPAL, cam, segs[0].startTime, segs[0].endTime);
    await exportsSvc.setEvidence(SYSTEM_PRINCIPAL, held.id, true);
    expect(await exportsSvc.deleteClips([held.id, loose.id])).toEqual({ deleted: 1, bytes: loose.sizeBytes });
    expect(existsSync(join(k.store.config.clipsDirAbs, loose.file))).toBe(false);
    await expect(exportsSvc.get(SYSTEM_PRINCIPAL, loose.id)).rejects.toMatchObject({
      status: 404,
      code: 'CLIP_NOT_FOUND',
    });
    // A cutoff after every clip: only the held one stays.
    await exportsSvc.pruneClips(new Date(Date.now() + 60_000).toISOString());
    expect(await exportsSvc.get(SYSTEM_PRINCIPAL, held.id)).toMatchObject({ evidenceLocked: true });
    expect(existsSync(join(k.store.config.clipsDirAbs, held.file))).toBe(true);
    await exportsSvc.setEvidence(SYSTEM_PRINCIPAL, held.id, false);
    await exportsSvc.pruneClips(new Date(Date.now() + 60_000).toISOString());
    await expect(exportsSvc.get(SYSTEM_PRINCIPAL, held.id)).rejects.toMatchObject({ code: 'CLIP_NOT_FOUND' });
    expect(existsSync(join(k.store.config.clipsDirAbs, held.file))).toBe(false);
    await expect(exportsSvc.setEvidence(SYSTEM_PRINCIPAL, 'clip_missing', true)).rejects.toMatchObject({
      status: 404,
      code: 'CLIP_NOT_FOUND',
    });
  });

  it('a snapshot of a recorded instant is a JPEG; an instant without footage is 404 NO_FOOTAGE', async () => {
    const cam = await k.uniqueCamera('exsnap');
    const segs = await k.record(cam, 1);
    const jpeg = await exportsSvc.snapshot(cam, new Date(Date.parse(segs[0].startTime) + 1000).toISOString());
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    await expect(
      exportsSvc.snapshot(cam, new Date(Date.parse(segs[0].endTime) + 5000).toISOString()),
    ).rejects.toMatchObject({ status: 404, code: 'NO_FOOTAGE' });
    const after = await timeline.segmentsForExport(cam, segs[0].startTime, segs[0].endTime);
    expect(after.map((s) => s.locked)).toEqual([0]);
  });
});
