import { existsSync } from 'node:fs';
import { SYSTEM_PRINCIPAL } from '../../src/auth/principal';
import { CamerasService } from '../../src/cameras/cameras.service';
import { EventsService } from '../../src/events/events.service';
import { RetentionService } from '../../src/retention/retention.service';
import { TimelineRepository } from '../../src/timeline/timeline.repository';
import { TimelineService } from '../../src/timeline/timeline.service';
import { startMediumKernel, type MediumKernel } from '../support/medium-kernel';
import { ENGINE } from '../support/test-db';

const HOUR = 3_600_000;

describe(`retention service on real segments (${ENGINE})`, () => {
  let k: MediumKernel;
  let retention: RetentionService;
  let timeline: TimelineService;

  beforeAll(async () => {
    k = await startMediumKernel();
    retention = k.get(RetentionService);
    timeline = k.get(TimelineService);
  });

  afterAll(async () => {
    await k?.close();
  });

  const stored = async (cameraId: string) =>
    (await timeline.segmentsForExport(cameraId, new Date(0).toISOString(), new Date().toISOString())).map(
      (s) => s.id,
    );

  it('age: footage older than the camera retention goes (rows and files), newer, evidence and read-locked stay', async () => {
    const cam = await k.uniqueCamera('rtage', { retention_hours: 1 });
    const old = await k.record(cam, 4, 2 * HOUR);
    const fresh = (await k.record(cam, 2, 60_000)).filter((s) => !old.some((o) => o.id === s.id));
    expect(fresh).toHaveLength(2);
    await k.get(TimelineRepository).setEvidence(old[0].id, true);
    await timeline.lockForRead([old[1].id], true);
    try {
      const report = await retention.sweep();
      expect(report.age.cameras[cam]).toEqual({ deleted: 2, bytes: old[2].sizeBytes + old[3].sizeBytes });
      expect((await stored(cam)).sort()).toEqual([old[0].id, old[1].id, ...fresh.map((s) => s.id)].sort());
      expect(old.map((s) => existsSync(s.file))).toEqual([true, true, false, false]);
    } finally {
      await timeline.lockForRead([old[1].id], false);
    }
    // Released, the read-locked one goes with the next sweep; the evidence stays.
    await retention.sweep();
    expect((await stored(cam)).sort()).toEqual([old[0].id, ...fresh.map((s) => s.id)].sort());
  });

  it('a per-camera quota trims that camera oldest first, and no other camera', async () => {
    const cam = await k.uniqueCamera('rtquota');
    const bystander = await k.uniqueCamera('rtby');
    const segs = await k.record(cam, 5);
    const theirs = await k.record(bystander, 5);
    const size = segs[0].sizeBytes;
    await k
      .get(CamerasService)
      .update(SYSTEM_PRINCIPAL, cam, { storage_quota_bytes: Math.floor(size * 2.5) });
    const report = await retention.sweep();
    expect(report.camera_quota.cameras[cam]?.deleted).toBe(3);
    expect(await stored(cam)).toEqual(segs.slice(3).map((s) => s.id));
    expect(segs.map((s) => existsSync(s.file))).toEqual([false, false, false, true, true]);
    expect(await stored(bystander)).toEqual(theirs.map((s) => s.id));
    expect(report.camera_quota.cameras[bystander]).toBeUndefined();
  });

  it('a camera whose evidence alone fills its quota keeps everything and raises disk_pressure (camera_quota)', async () => {
    const cam = await k.uniqueCamera('rtfull');
    const segs = await k.record(cam, 3);
    for (const s of segs) await k.get(TimelineRepository).setEvidence(s.id, true);
    await k.get(CamerasService).update(SYSTEM_PRINCIPAL, cam, { storage_quota_bytes: segs[0].sizeBytes });
    const report = await retention.sweep();
    expect(report.pressure).toContain('camera_quota');
    expect(await stored(cam)).toEqual(segs.map((s) => s.id));
    const events = await k.get(EventsService).list({ eventType: 'disk_pressure', limit: 100 });
    expect(events.some((e) => e.payload.reason === 'camera_quota' && e.payload.camera_id === cam)).toBe(true);
  });

  it('a sweep with nothing past any limit deletes nothing of a camera', async () => {
    const cam = await k.uniqueCamera('rtkeep');
    const segs = await k.record(cam, 3);
    const report = await retention.sweep();
    for (const step of [report.age, report.camera_quota, report.size_cap, report.free_floor])
      expect(step.cameras[cam]).toBeUndefined();
    expect(await stored(cam)).toEqual(segs.map((s) => s.id));
    expect(segs.every((s) => existsSync(s.file))).toBe(true);
  });
});
