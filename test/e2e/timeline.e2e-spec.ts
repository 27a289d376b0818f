import { prefixedId } from '../../src/common/ids';
import { DatabaseService } from '../../src/database/database.service';
import { RecorderRepository } from '../../src/recorder/recorder.repository';
import type { SegmentEntity } from '../../src/timeline/entities/segment.entity';
import { TimelineRepository } from '../../src/timeline/timeline.repository';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const T = Date.UTC(2026, 0, 10, 0, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const at = (sec: number) => iso(T + sec * 1000);

function segment(
  cameraId: string,
  startSec: number,
  lenSec: number,
  extra: Partial<SegmentEntity> = {},
): SegmentEntity {
  const id = prefixedId('seg_');
  return {
    id,
    cameraId,
    path: `${cameraId}/2026-01-10/${id}.mp4`,
    startTime: at(startSec),
    endTime: at(startSec + lenSec),
    durationS: lenSec,
    codec: 'h264',
    width: 320,
    height: 240,
    fps: 5,
    sizeBytes: 1000,
    container: 'mp4',
    locked: 0,
    evidenceLocked: false,
    incidentId: null,
    createdAt: iso(T),
    ...extra,
  };
}

describe(`timeline reads (${ENGINE})`, () => {
  let t: TestApp;
  let repo: TimelineRepository;

  beforeAll(async () => {
    t = await startTestApp({
      env: { HELDAR_INDEXER_INTERVAL_S: '3600', HELDAR_RETENTION_INTERVAL_S: '86400' },
    });
    repo = t.app.get(TimelineRepository);
    for (const id of ['tlgaps', 'tlsegs'])
      await t.http().post('/api/v1/cameras').send({ id, name: id }).expect(201);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('gaps: every hole of the window gets its cause from one read of the recorded gaps and one of the recorder runs', async () => {
    const cam = 'tlgaps';
    // 24 one-minute segments with a 30 s hole after each: 23 holes inside the window.
    await repo.insertSegments(Array.from({ length: 24 }, (_, i) => segment(cam, i * 90, 60)));
    const hole = (i: number) => ({ start: at(i * 90 + 60), end: at(i * 90 + 90) });
    // Hole 1 was recorded by the indexer (its cause wins over any run); holes 4 and 9 have a
    // recorder run that ended at their start; the rest are unknown.
    await repo.insertGap({
      id: 'gap_tl1',
      cameraId: cam,
      gapStart: hole(1).start,
      gapEnd: hole(1).end,
      gapSeconds: 30,
      cause: 'storage_error',
      fillState: 'pending',
      createdAt: iso(T),
    });
    const recorder = t.app.get(RecorderRepository);
    const runA = await recorder.openRun(cam, at(0));
    await recorder.closeRun(runA, at(4 * 90 + 61), 'source_lost', null);
    const runB = await recorder.openRun(cam, at(4 * 90 + 95));
    await recorder.closeRun(runB, at(9 * 90 + 60.5), 'stopped', null);
    await recorder.closeRun(await recorder.openRun(cam, at(1 * 90)), at(1 * 90 + 61), 'server_down', null);

    const runs = jest.spyOn(recorder, 'runsEndedBetween');
    const recorded = jest.spyOn(repo, 'gapsBetween');
    try {
      const res = await t
        .http()
        .get(`/api/v1/cameras/${cam}/gaps`)
        .query({ from: at(0), to: at(23 * 90 + 60) })
        .expect(200);
      expect(res.body.gap_count).toBe(23);
      expect(res.body.gaps).toEqual(
        Array.from({ length: 23 }, (_, i) => ({
          ...hole(i),
          seconds: 30,
          cause:
            i === 1 ? 'storage_error' : i === 4 ? 'camera_offline' : i === 9 ? 'recorder_stopped' : 'unknown',
        })),
      );
      expect(res.body.total_gap_seconds).toBe(23 * 30);
      // Not one query per hole: the window's recorded gaps and runs are each read once.
      expect(runs).toHaveBeenCalledTimes(1);
      expect(recorded).toHaveBeenCalledTimes(1);
    } finally {
      runs.mockRestore();
      recorded.mockRestore();
    }
  });

  it('reads of a known camera probe the cameras table once; a deleted camera is 404 at once, a re-created one found again', async () => {
    const cam = 'tlprobe';
    await t.http().post('/api/v1/cameras').send({ id: cam, name: cam }).expect(201);
    // SQLite: every run of the probe statement is counted (PostgreSQL: the answers only).
    const probe =
      ENGINE === 'sqlite' ? t.app.get(DatabaseService).prepared('SELECT 1 FROM cameras WHERE id = ?') : null;
    const spies = probe ? [jest.spyOn(probe, 'get'), jest.spyOn(probe, 'all')] : [];
    const probes = () => spies.reduce((n, s) => n + s.mock.calls.length, 0);
    const segments = () =>
      t
        .http()
        .get(`/api/v1/cameras/${cam}/segments`)
        .query({ from: at(0), to: at(60) });
    try {
      for (let i = 0; i < 3; i++) await segments().expect(200);
      await t
        .http()
        .get(`/api/v1/cameras/${cam}/timeline`)
        .query({ from: at(0), to: at(60) })
        .expect(200);
      if (probe) expect(probes()).toBe(1);
      await t.http().delete(`/api/v1/cameras/${cam}`).expect(204);
      const gone = await segments().expect(404);
      expect(gone.body.code).toBe('CAMERA_NOT_FOUND');
      await t
        .http()
        .get(`/api/v1/cameras/${cam}/gaps`)
        .query({ from: at(0), to: at(60) })
        .expect(404);
      await t.http().post('/api/v1/cameras').send({ id: cam, name: cam }).expect(201);
      await segments().expect(200);
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });

  it('gaps with no hole in the window read neither recorded gaps nor runs', async () => {
    const runs = jest.spyOn(t.app.get(RecorderRepository), 'runsEndedBetween');
    try {
      const res = await t
        .http()
        .get('/api/v1/cameras/tlgaps/gaps')
        .query({ from: at(5), to: at(55) })
        .expect(200);
      expect(res.body).toMatchObject({ gaps: [], gap_count: 0, total_gap_seconds: 0 });
      expect(runs).not.toHaveBeenCalled();
    } finally {
      runs.mockRestore();
    }
  });

  it('segments: every column as the API has always answered it (booleans, big sizes, nulls) in each window form', async () => {
    const cam = 'tlsegs';
    const big = segment(cam, 0, 60, {
      sizeBytes: 5_000_000_123, // above 2^32: PostgreSQL returns BIGINT as a string
      evidenceLocked: true,
      incidentId: 'inc_1',
      locked: 2,
      fps: 12.5,
      durationS: 59.96,
    });
    const bare = segment(cam, 60, 60, { codec: null, width: null, height: null, fps: null });
    const later = segment(cam, 7200, 60);
    // Copies: on PostgreSQL TypeORM writes the (untransformed) stored values back into what it inserts.
    await repo.insertSegments([big, bare, later].map((s) => ({ ...s })));
    const dto = (s: SegmentEntity) => ({
      id: s.id,
      camera_id: cam,
      path: s.path,
      start_time: s.startTime,
      end_time: s.endTime,
      duration_s: s.durationS,
      codec: s.codec,
      width: s.width,
      height: s.height,
      fps: s.fps,
      size_bytes: s.sizeBytes,
      container: 'mp4',
      locked: s.locked,
      evidence_locked: s.evidenceLocked,
      incident_id: s.incidentId,
      // Rows written without a mode (as before recording modes) were recorded continuously.
      kept_by: 'continuous',
      created_at: s.createdAt,
      url: `/media/recordings/${cam}/2026-01-10/${s.path.split('/')[2]}`,
    });
    const get = async (query: Record<string, string | number>) =>
      (await t.http().get(`/api/v1/cameras/${cam}/segments`).query(query).expect(200)).body as unknown;
    expect(await get({})).toEqual([dto(big), dto(bare), dto(later)]);
    expect(await get({ limit: 2 })).toEqual([dto(bare), dto(later)]);
    expect(await get({ from: at(30), to: at(90) })).toEqual([dto(big), dto(bare)]);
    expect(await get({ from: at(61) })).toEqual([dto(bare), dto(later)]);
    expect(await get({ to: at(60) })).toEqual([dto(big)]);
    expect(await get({ from: at(121), to: at(7000) })).toEqual([]);
  });

  it('timeline and segments of a camera that does not exist: 404 in the error envelope', async () => {
    for (const path of ['timeline', 'gaps', 'segments']) {
      const res = await t.http().get(`/api/v1/cameras/nope/${path}`).expect(404);
      expect(res.body).toMatchObject({ code: 'CAMERA_NOT_FOUND' });
      expect(typeof res.body.error).toBe('string');
    }
  });
});
