import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { startTestApp, type TestApp, waitFor, withClockAhead } from '../support/test-app';
import { ENGINE } from '../support/test-db';
import { RecorderService } from '../../src/recorder/recorder.service';
import { localTime } from '../../src/schedules/schedule-logic';

const hhmm = (min: number) =>
  `${String(Math.floor((((min % 1440) + 1440) % 1440) / 60)).padStart(2, '0')}:${String((((min % 1440) + 1440) % 1440) % 60).padStart(2, '0')}`;

/** A window around the wall-clock time of `tz` now: open from `beforeMin` ago to `afterMin` ahead. */
function windowAround(tz: string, beforeMin: number, afterMin: number) {
  const t = localTime(Date.now(), tz);
  return {
    days: [0, 1, 2, 3, 4, 5, 6],
    time_start: hhmm(t.minute - beforeMin),
    time_end: hhmm(t.minute + afterMin),
  };
}

describe(`recording schedules (${ENGINE})`, () => {
  let t: TestApp;
  const cams: TestCamera[] = [];

  const status = async (id: string) =>
    (
      (await t.http().get('/api/v1/health/cameras').expect(200)).body as Array<{
        camera_id: string;
        state: string;
        pid: number | null;
      }>
    ).find((s) => s.camera_id === id);
  const events = async (id: string, type: string) =>
    (await t.http().get(`/api/v1/events?camera_id=${id}&event_type=${type}`).expect(200)).body as Array<{
      payload: Record<string, unknown>;
      severity: string;
    }>;

  beforeAll(async () => {
    t = await startTestApp({
      env: { HELDAR_RECORDER_ENABLED: 'true', HELDAR_INDEXER_INTERVAL_S: '1', HELDAR_HEALTH_INTERVAL_S: '1' },
    });
    for (let i = 0; i < 2; i++) cams.push(await startTestCamera({ width: 160, height: 120, fps: 5 }));
    // A site 9 hours from the server (the tests run the kernel in UTC).
    await t
      .http()
      .post('/api/v1/sites')
      .send({ id: 'tokyo', name: 'Tokyo', timezone: 'Asia/Tokyo' })
      .expect(201);
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all(cams.map((c) => c.stop()));
  });

  it('validates modes, rolls and windows with 400s in the envelope', async () => {
    const bad = await t
      .http()
      .post('/api/v1/cameras')
      .send({ name: 'Bad mode', record_mode: 'sometimes' })
      .expect(400);
    expect(bad.body.error).toMatch(
      /record_mode must be one of: continuous, scheduled, event, scheduled_event/,
    );
    await t.http().post('/api/v1/cameras').send({ name: 'Bad roll', pre_roll_seconds: 301 }).expect(400);
    await t.http().post('/api/v1/cameras').send({ name: 'Bad post', post_roll_seconds: -1 }).expect(400);
    const cam = await t
      .http()
      .post('/api/v1/cameras')
      .send({ name: 'Plain', record_enabled: false })
      .expect(201);
    expect(cam.body).toMatchObject({
      record_mode: 'continuous',
      pre_roll_seconds: 10,
      post_roll_seconds: 30,
    });

    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ days: [7], time_start: '08:00', time_end: '18:00' }, /days/],
      [{ days: [], time_start: '08:00', time_end: '18:00' }, /days/],
      [{ days: [1], time_start: '8:00', time_end: '18:00' }, /time_start must be "HH:MM"/],
      [{ days: [1], time_start: '08:00', time_end: '24:01' }, /time_end must be "HH:MM"/],
      [{ days: [1], time_start: '24:00', time_end: '06:00' }, /time_start must be "HH:MM"/],
      [{ days: [1], time_start: '08:00' }, /time_end/],
    ];
    for (const [body, msg] of cases) {
      const res = await t.http().post('/api/v1/cameras/plain/schedules').send(body).expect(400);
      expect(res.body).toMatchObject({ code: expect.any(String) });
      expect(res.body.error).toMatch(msg);
    }
    await t
      .http()
      .post('/api/v1/cameras/nope/schedules')
      .send({ days: [1], time_start: '08:00', time_end: '09:00' })
      .expect(404);
    await t.http().patch('/api/v1/schedules/sch_nope').send({ enabled: false }).expect(404);
  });

  it('CRUD: windows are listed, changed and removed, each change audited', async () => {
    const created = await t
      .http()
      .post('/api/v1/cameras/plain/schedules')
      .send({ days: [4, 0, 4], time_start: '22:00', time_end: '06:00' })
      .expect(201);
    expect(created.body).toMatchObject({
      camera_id: 'plain',
      days: [0, 4],
      time_start: '22:00',
      time_end: '06:00',
      enabled: true,
    });
    const id = created.body.id as string;
    const patched = await t
      .http()
      .patch(`/api/v1/schedules/${id}`)
      .send({ time_end: '24:00', enabled: false })
      .expect(200);
    expect(patched.body).toMatchObject({ id, time_start: '22:00', time_end: '24:00', enabled: false });
    const list = (await t.http().get('/api/v1/cameras/plain/schedules').expect(200)).body;
    expect(list).toEqual([expect.objectContaining({ id, time_end: '24:00', enabled: false })]);
    await t.http().delete(`/api/v1/schedules/${id}`).expect(204);
    expect((await t.http().get('/api/v1/cameras/plain/schedules').expect(200)).body).toEqual([]);
    for (const action of ['create_schedule', 'update_schedule', 'delete_schedule']) {
      const audit = (await t.http().get(`/api/v1/audit?action=${action}`).expect(200)).body.entries;
      expect(audit).toEqual([expect.objectContaining({ target_id: id })]);
    }
  });

  it('a scheduled camera records only inside its window, on its site’s wall clock; the hole is not_scheduled, not a failure', async () => {
    // Open now in Tokyo. Read in the server's zone (UTC, 9 h off) the same window is closed.
    const win = windowAround('Asia/Tokyo', 30, 60);
    await t
      .http()
      .post('/api/v1/cameras')
      .send({
        id: 'sched',
        name: 'Sched',
        site_id: 'tokyo',
        main_stream_url: cams[0].url,
        segment_seconds: 2,
        record_mode: 'scheduled',
      })
      .expect(201);
    // No window yet: held off, no ffmpeg.
    await waitFor(async () => (await status('sched'))?.state === 'idle', 10_000, 'idle without a window');
    expect((await status('sched'))!.pid).toBeNull();

    const sch = await t.http().post('/api/v1/cameras/sched/schedules').send(win).expect(201);
    await waitFor(
      async () => (await status('sched'))?.state === 'recording',
      20_000,
      'recording once the window is open',
    );
    expect((await events('sched', 'recording_started'))[0].payload).toMatchObject({
      reason: 'schedule',
      mode: 'scheduled',
    });
    await waitFor(
      async () =>
        ((await t.http().get('/api/v1/cameras/sched/segments').expect(200)).body as unknown[]).length >= 2,
      20_000,
      'segments inside the window',
    );

    // Closing the window (disabled) stops the recorder within seconds.
    await t.http().patch(`/api/v1/schedules/${sch.body.id}`).send({ enabled: false }).expect(200);
    await waitFor(
      async () => (await status('sched'))?.state === 'idle',
      10_000,
      'idle once the window closes',
    );
    expect((await events('sched', 'recording_stopped'))[0].payload).toMatchObject({ reason: 'schedule' });
    await new Promise((r) => setTimeout(r, 5_000)); // a hole longer than the 3 s gap threshold
    await t.http().patch(`/api/v1/schedules/${sch.body.id}`).send({ enabled: true }).expect(200);

    const gap = await waitFor(
      async () => {
        const gaps = (await t.http().get('/api/v1/cameras/sched/recording-gaps').expect(200)).body as Array<{
          cause: string;
        }>;
        return gaps[0];
      },
      30_000,
      'the gap once recording resumes',
    );
    expect(gap.cause).toBe('not_scheduled');
    const gapEvents = await events('sched', 'recording_gap');
    expect(gapEvents[0]).toMatchObject({
      severity: 'info',
      payload: expect.objectContaining({ cause: 'not_scheduled' }),
    });
    const computed = (await t.http().get('/api/v1/cameras/sched/gaps').expect(200)).body as {
      gaps: Array<{ cause: string }>;
    };
    expect(computed.gaps.map((g) => g.cause)).toContain('not_scheduled');
  });

  it('the schedule check follows the clock: a window that closes stops the recorder, one that opens starts it', async () => {
    const win = windowAround('Asia/Tokyo', 30, 60);
    await t
      .http()
      .post('/api/v1/cameras')
      .send({
        id: 'clock',
        name: 'Clock',
        site_id: 'tokyo',
        main_stream_url: cams[1].url,
        segment_seconds: 2,
        record_mode: 'scheduled_event',
      })
      .expect(201);
    await t.http().post('/api/v1/cameras/clock/schedules').send(win).expect(201);
    await waitFor(
      async () => (await status('clock'))?.state === 'recording',
      20_000,
      'recording inside the window',
    );
    const recorder = t.app.get(RecorderService);
    // Two hours later the window (which closes in an hour) is closed.
    await withClockAhead(t, 2 * 3600_000, async () => {
      await recorder.checkSchedules();
      await recorder.settled();
      expect((await status('clock'))!.state).toBe('idle');
      expect((await status('clock'))!.pid).toBeNull();
    });
    // Back to now: open again at the next check (every 5 s).
    await waitFor(async () => (await status('clock'))?.state === 'recording', 20_000, 'recording again');
    expect((await events('clock', 'recording_started')).length).toBeGreaterThanOrEqual(1);
  });

  it('deleting a camera removes its windows', async () => {
    await t
      .http()
      .post('/api/v1/cameras/plain/schedules')
      .send({ days: [1], time_start: '08:00', time_end: '09:00' })
      .expect(201);
    await t.http().delete('/api/v1/cameras/plain').expect(204);
    await t
      .http()
      .post('/api/v1/cameras')
      .send({ id: 'plain', name: 'Plain', record_enabled: false })
      .expect(201);
    await waitFor(
      async () =>
        ((await t.http().get('/api/v1/cameras/plain/schedules').expect(200)).body as unknown[]).length === 0,
      5_000,
      'windows gone with their camera',
    );
  });
});
