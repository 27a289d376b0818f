import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';
import { KeepService } from '../../src/keep/keep.service';
import { KeepRepository } from '../../src/keep/keep.repository';
import { TimelineRepository } from '../../src/timeline/timeline.repository';

interface Segment {
  id: string;
  path: string;
  start_time: string;
  end_time: string;
  kept_by: string;
  size_bytes: number;
}

const PRE = 4;
const POST = 4;
const SEG = 2;

describe(`event recording with a real pre-roll (${ENGINE})`, () => {
  let t: TestApp;
  let cam: TestCamera;
  let gateCam: TestCamera | undefined;
  let keep: KeepService;

  const segments = async (id: string): Promise<Segment[]> =>
    (await t.http().get(`/api/v1/cameras/${id}/segments?limit=5000`).expect(200)).body as Segment[];
  const events = async (id: string, type: string) =>
    (await t.http().get(`/api/v1/events?camera_id=${id}&event_type=${type}`).expect(200)).body as Array<{
      payload: Record<string, unknown>;
    }>;
  /** Decide as the loop would once every segment up to now is past its horizon. */
  const decide = (id: string) =>
    keep.decideCamera({ id, preRollSeconds: PRE, segmentSeconds: SEG }, Date.now() + 60_000);

  beforeAll(async () => {
    t = await startTestApp({
      env: { HELDAR_RECORDER_ENABLED: 'true', HELDAR_INDEXER_INTERVAL_S: '1', HELDAR_HEALTH_INTERVAL_S: '1' },
    });
    keep = t.app.get(KeepService);
    cam = await startTestCamera({ width: 160, height: 120, fps: 10 });
  });

  afterAll(async () => {
    await t?.close();
    await cam?.stop();
    await gateCam?.stop();
  });

  it('an event camera keeps [t − pre_roll, t + post_roll] of a trigger, to within a segment, and deletes the rest as no_event', async () => {
    const created = await t
      .http()
      .post('/api/v1/cameras')
      .send({
        id: 'door',
        name: 'Door',
        main_stream_url: cam.url,
        record_mode: 'event',
        pre_roll_seconds: PRE,
        post_roll_seconds: POST,
        segment_seconds: SEG,
      })
      .expect(201);
    expect(created.body).toMatchObject({
      record_mode: 'event',
      pre_roll_seconds: PRE,
      post_roll_seconds: POST,
    });
    // Recorded continuously into the normal store: the pre-roll exists before any trigger.
    await waitFor(async () => (await segments('door')).length >= 6, 30_000, 'footage before the trigger');
    expect((await segments('door')).map((s) => s.kept_by)).toEqual(expect.arrayContaining(['pending']));
    expect([...new Set((await segments('door')).map((s) => s.kept_by))]).toEqual(['pending']);

    const before = Date.now();
    const res = await t
      .http()
      .post('/api/v1/cameras/door/record-trigger')
      .send({ reason: 'door_contact' })
      .expect(200);
    const tMs = (before + Date.now()) / 2;
    expect(res.body).toMatchObject({
      camera_id: 'door',
      mode: 'event',
      window: { reason: 'door_contact', trigger_count: 1 },
    });
    expect(Date.parse(res.body.window.end) - Date.parse(res.body.window.start)).toBe((PRE + POST) * 1000);

    // A second trigger inside the window only extends it.
    await new Promise((r) => setTimeout(r, 1000));
    const again = await t
      .http()
      .post('/api/v1/cameras/door/record-trigger')
      .send({ reason: 'door_contact' })
      .expect(200);
    expect(again.body.window).toMatchObject({
      id: res.body.window.id,
      start: res.body.window.start,
      trigger_count: 2,
    });
    const windowEnd = Date.parse(again.body.window.end);
    expect(windowEnd).toBeGreaterThan(Date.parse(res.body.window.end));
    const windowStart = Date.parse(res.body.window.start);

    // Footage after the window, then the decision.
    await waitFor(
      async () => (await segments('door')).some((s) => Date.parse(s.start_time) > windowEnd + SEG * 1000),
      30_000,
      'footage after the window',
    );
    const all = await segments('door');
    const result = await decide('door');
    expect(result.kept).toBeGreaterThan(0);
    expect(result.deleted).toBeGreaterThan(0);

    const after = await segments('door');
    const decided = after.filter((s) => s.kept_by !== 'pending');
    expect(decided.length).toBeGreaterThan(0);
    for (const s of decided) expect(s.kept_by).toBe('event:door_contact');
    const first = Date.parse(decided[0].start_time);
    const last = Date.parse(decided[decided.length - 1].end_time);
    // The kept footage covers the window, and starts and ends within one segment of it (+ a frame).
    expect(first).toBeLessThanOrEqual(windowStart);
    expect(windowStart - first).toBeLessThan(SEG * 1000 + 500);
    expect(last).toBeGreaterThanOrEqual(windowEnd);
    expect(last - windowEnd).toBeLessThan(SEG * 1000 + 500);
    // Contiguous: nothing inside the window was lost.
    for (let i = 1; i < decided.length; i++)
      expect(Date.parse(decided[i].start_time) - Date.parse(decided[i - 1].end_time)).toBeLessThan(1000);
    // Everything outside is gone, rows and files.
    const keptIds = new Set(decided.map((s) => s.id));
    const gone = all.filter((s) => !keptIds.has(s.id) && !after.some((a) => a.id === s.id));
    expect(gone.length).toBe(result.deleted);
    for (const s of gone) expect(existsSync(join(t.store.config.recordingsDirAbs, s.path))).toBe(false);
    for (const s of decided) expect(existsSync(join(t.store.config.recordingsDirAbs, s.path))).toBe(true);
    expect(tMs - PRE * 1000).toBeGreaterThanOrEqual(first - 1000);

    // The timeline says why: the hole before the window is no_event, not a failure.
    const gaps = (
      await t
        .http()
        .get(`/api/v1/cameras/door/gaps?from=${all[0].start_time}&to=${new Date().toISOString()}`)
        .expect(200)
    ).body as {
      gaps: Array<{ start: string; end: string; cause: string }>;
    };
    const before1 = gaps.gaps.find(
      (g) => Date.parse(g.end) <= first + 1000 && Date.parse(g.end) >= first - 1000,
    );
    expect(before1).toMatchObject({ cause: 'no_event' });
    const recorded = (await t.http().get('/api/v1/cameras/door/recording-gaps').expect(200)).body as Array<{
      cause: string;
    }>;
    expect(recorded.map((g) => g.cause)).toContain('no_event');
    const windows = (await t.http().get('/api/v1/cameras/door/keep-windows').expect(200)).body;
    expect(windows).toEqual([
      expect.objectContaining({ id: res.body.window.id, reason: 'door_contact', trigger_count: 2 }),
    ]);

    expect((await events('door', 'recording_triggered')).length).toBe(2);
    expect((await events('door', 'recording_started'))[0].payload).toMatchObject({
      reason: 'trigger',
      trigger: 'door_contact',
    });
    await waitFor(
      async () => (await events('door', 'recording_stopped')).length > 0,
      15_000,
      'window end announced',
    );
    expect((await events('door', 'recording_stopped'))[0].payload).toMatchObject({ reason: 'window_end' });
    const audit = (await t.http().get('/api/v1/audit?action=record_trigger').expect(200)).body.entries;
    expect(audit).toHaveLength(2);
  });

  it('evidence-locked segments outside every window are never deleted', async () => {
    await waitFor(
      async () => (await segments('door')).filter((s) => s.kept_by === 'pending').length >= 2,
      30_000,
      'new pending footage',
    );
    const pending = (await segments('door')).filter((s) => s.kept_by === 'pending');
    const locked = pending[0];
    await t
      .http()
      .post(`/api/v1/segments/${locked.id}/evidence-lock`)
      .send({ incident_id: 'INC-1' })
      .expect(200);
    await decide('door');
    const after = await segments('door');
    expect(after.find((s) => s.id === locked.id)).toMatchObject({ kept_by: 'lock' });
    expect(existsSync(join(t.store.config.recordingsDirAbs, locked.path))).toBe(true);
  });

  it('the retention forecast counts what the event camera keeps, not what it records', async () => {
    // Footage still on disk that is not kept (pending its decision) must not count.
    const onDisk = await waitFor(
      async () => {
        const l = await segments('door');
        return l.some((s) => s.kept_by === 'pending') ? l : null;
      },
      20_000,
      'footage pending its decision',
    );
    const keptBytes = onDisk
      .filter((s) => s.kept_by.startsWith('event:') || s.kept_by === 'lock')
      .reduce((sum, s) => sum + s.size_bytes, 0);
    expect(keptBytes).toBeGreaterThan(0);
    expect(onDisk.reduce((sum, s) => sum + s.size_bytes, 0)).toBeGreaterThan(keptBytes);
    const forecast = (await t.http().get('/api/v1/system/retention').expect(200)).body.forecast as {
      cameras: Array<{ camera_id: string; write_rate_bytes_per_day: number }>;
    };
    expect(forecast.cameras.find((c) => c.camera_id === 'door')?.write_rate_bytes_per_day).toBe(keptBytes);
  });

  it('a worker’s event is a trigger; a trigger on a continuous camera is only logged', async () => {
    await t
      .http()
      .post('/api/v1/cameras')
      .send({ id: 'cont', name: 'Cont', record_enabled: false })
      .expect(201);
    const res = await t.http().post('/api/v1/cameras/cont/record-trigger').send({}).expect(200);
    expect(res.body).toEqual({ camera_id: 'cont', mode: 'continuous', window: null });
    expect((await events('cont', 'recording_triggered'))[0].payload).toMatchObject({
      reason: 'api',
      mode: 'continuous',
      window_end: null,
    });

    const windowsBefore = (await t.http().get('/api/v1/cameras/door/keep-windows').expect(200)).body.length;
    await t
      .http()
      .post('/api/v1/ai/events')
      .send({
        camera_id: 'door',
        task_type: 'doorbell',
        detections: [],
        event: { event_type: 'doorbell_pressed' },
      })
      .expect((r) => expect(r.status).toBeLessThan(300));
    const windows = await waitFor(
      async () => {
        const w = (await t.http().get('/api/v1/cameras/door/keep-windows').expect(200)).body as Array<{
          reason: string;
        }>;
        return w.length > windowsBefore ? w : null;
      },
      10_000,
      'a keep window from the worker event',
    );
    expect(windows[windows.length - 1].reason).toBe('doorbell_pressed');
  });

  it('a zone crossing posted through the ingest API is a trigger: the kept footage covers [t − pre_roll, t + post_roll]', async () => {
    gateCam = await startTestCamera({ width: 160, height: 120, fps: 10 });
    await t
      .http()
      .post('/api/v1/cameras')
      .send({
        id: 'gate',
        name: 'Gate',
        main_stream_url: gateCam.url,
        record_mode: 'event',
        pre_roll_seconds: PRE,
        post_roll_seconds: POST,
        segment_seconds: SEG,
      })
      .expect(201);
    await t
      .http()
      .post('/api/v1/cameras/gate/zones')
      .send({
        name: 'Gate line',
        kind: 'line',
        polygon: [
          [0.5, 0],
          [0.5, 1],
        ],
      })
      .expect(201);
    await waitFor(async () => (await segments('gate')).length >= 5, 30_000, 'footage before the crossing');
    const person = (frame: string, x: number) => ({
      camera_id: 'gate',
      task_type: 'object_detection',
      frame_id: frame,
      detections: [{ label: 'person', confidence: 0.9, track_id: 1, bbox: [x - 0.05, 0.3, 0.1, 0.2] }],
    });
    await t.http().post('/api/v1/ai/events').send(person('g1', 0.3)).expect(200);
    const before = Date.now();
    await t.http().post('/api/v1/ai/events').send(person('g2', 0.7)).expect(200); // crosses the line
    const tMs = Date.now();
    const window = await waitFor(
      async () => {
        const w = (await t.http().get('/api/v1/cameras/gate/keep-windows').expect(200)).body as Array<{
          start: string;
          end: string;
          reason: string;
        }>;
        return w[0];
      },
      10_000,
      'a keep window from the crossing',
    );
    expect(window.reason).toBe('zone_cross_ab');
    // The window is [t − pre, t + post] of the crossing's time (the ingest's timestamp, the server's now).
    expect(Date.parse(window.start)).toBeGreaterThanOrEqual(before - PRE * 1000 - 1000);
    expect(Date.parse(window.start)).toBeLessThanOrEqual(tMs - PRE * 1000);
    expect(Date.parse(window.end) - Date.parse(window.start)).toBe((PRE + POST) * 1000);
    const end = Date.parse(window.end);
    await waitFor(
      async () => (await segments('gate')).some((s) => Date.parse(s.start_time) > end + SEG * 1000),
      30_000,
      'footage after the window',
    );
    await decide('gate');
    const kept = (await segments('gate')).filter((s) => s.kept_by === 'event:zone_cross_ab');
    expect(kept.length).toBeGreaterThan(0);
    const first = Date.parse(kept[0].start_time);
    const last = Date.parse(kept[kept.length - 1].end_time);
    expect(first).toBeLessThanOrEqual(Date.parse(window.start));
    expect(Date.parse(window.start) - first).toBeLessThan(SEG * 1000 + 500);
    expect(last).toBeGreaterThanOrEqual(end);
    expect(last - end).toBeLessThan(SEG * 1000 + 500);
    // Nothing else was kept; what came before the window is gone.
    const decidedOthers = (await segments('gate')).filter(
      (s) => s.kept_by !== 'pending' && s.kept_by !== 'event:zone_cross_ab',
    );
    expect(decidedOthers).toEqual([]);
    expect((await segments('gate')).every((s) => Date.parse(s.end_time) > first - 1000)).toBe(true);
  });

  it('a segment indexed late (starting before already-decided ones) is still decided', async () => {
    const cursor = await t.app.get(KeepRepository).cursor('door');
    expect(cursor).not.toBeNull();
    // A file a reconciliation pass finds late: it starts five minutes before the cursor.
    const startMs = Date.parse(cursor!) - 300_000;
    const name = new Date(startMs).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
    const day = new Date(startMs).toISOString().slice(0, 10);
    const rel = `door/${day}/${name}.mp4`;
    mkdirSync(join(t.store.config.recordingsDirAbs, 'door', day), { recursive: true });
    writeFileSync(join(t.store.config.recordingsDirAbs, rel), Buffer.alloc(64));
    await t.app.get(TimelineRepository).insertSegments([
      {
        id: 'seg_late',
        cameraId: 'door',
        path: rel,
        startTime: new Date(startMs).toISOString(),
        endTime: new Date(startMs + SEG * 1000).toISOString(),
        durationS: SEG,
        codec: 'h264',
        width: 160,
        height: 120,
        fps: 10,
        sizeBytes: 64,
        container: 'mp4',
        locked: 0,
        evidenceLocked: false,
        incidentId: null,
        createdAt: new Date().toISOString(),
        keptBy: 'pending',
      },
    ]);
    await decide('door');
    // Outside every keep window: deleted, row and file.
    const segs = await segments('door');
    expect(segs.find((s) => s.id === 'seg_late')).toBeUndefined();
    expect(existsSync(join(t.store.config.recordingsDirAbs, rel))).toBe(false);
  });

  it('bad trigger input is a 400; a missing camera a 404', async () => {
    await t.http().post('/api/v1/cameras/door/record-trigger').send({ post_roll_seconds: 3601 }).expect(400);
    await t
      .http()
      .post('/api/v1/cameras/door/record-trigger')
      .send({ reason: 'x'.repeat(65) })
      .expect(400);
    await t.http().post('/api/v1/cameras/nope/record-trigger').send({}).expect(404);
    await t
      .http()
      .get('/api/v1/cameras/door/keep-windows?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')
      .expect(400);
  });
});
