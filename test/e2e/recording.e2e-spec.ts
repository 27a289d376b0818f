import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ffprobeJson } from '../fixtures/ffprobe';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { startTestApp, type TestApp, waitFor, withClockAhead } from '../support/test-app';
import { ENGINE } from '../support/test-db';
import { SupervisedProcess } from '../../src/process/supervised-process';
import { RecorderService } from '../../src/recorder/recorder.service';

interface Segment {
  path: string;
  start_time: string;
  end_time: string;
  duration_s: number;
  codec: string;
  width: number;
}

const RECORDING_ENV = {
  HELDAR_RECORDER_ENABLED: 'true',
  HELDAR_INDEXER_INTERVAL_S: '1',
  HELDAR_HEALTH_INTERVAL_S: '1',
};

describe(`recording and the timeline (${ENGINE})`, () => {
  let t: TestApp;
  const cams: TestCamera[] = [];
  const ids = ['rec_a', 'rec_b', 'rec_c'];
  let createdAt = 0;

  const segments = async (id: string): Promise<Segment[]> =>
    (await t.http().get(`/api/v1/cameras/${id}/segments?limit=5000`).expect(200)).body as Segment[];
  const recDir = (id: string) => join(t.store.config.recordingsDirAbs, id);

  beforeAll(async () => {
    t = await startTestApp({ env: RECORDING_ENV });
    for (let i = 0; i < 3; i++) cams.push(await startTestCamera({ width: 320, height: 240, fps: 5 }));
    createdAt = Date.now();
    for (let i = 0; i < 3; i++) {
      await t
        .http()
        .post('/api/v1/cameras')
        .send({ id: ids[i], name: `Recorded ${i}`, main_stream_url: cams[i].url, segment_seconds: 2 })
        .expect(201);
    }
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all(cams.map((c) => c.stop()));
  });

  it('records three cameras into contiguous, playable, indexed 2 s segments', async () => {
    await new Promise((r) => setTimeout(r, 20_000));
    for (const id of ids) {
      // Recording goes on while we read: take the segment list and the timeline between two reads
      // that agree, so a segment indexed in between cannot make them differ.
      let segs: Segment[] = [];
      let tl: { ranges: unknown[]; segment_count: number; recorded_seconds: number } | undefined;
      for (let attempt = 0; attempt < 5; attempt++) {
        segs = await segments(id);
        tl = (await t.http().get(`/api/v1/cameras/${id}/timeline`).expect(200)).body;
        if ((await segments(id)).length === segs.length) break;
      }
      expect(segs.length).toBeGreaterThanOrEqual(6);
      const first = Date.parse(segs[0].start_time);
      const last = Date.parse(segs[segs.length - 1].end_time);
      // recording started promptly (this includes the test camera's pipeline start on first connection)
      expect(first - createdAt).toBeLessThan(8_000);

      expect(tl!.ranges).toHaveLength(1); // contiguous
      expect(tl!.segment_count).toBe(segs.length);
      // Recorded seconds within 10 % of the wall time they span (the first connection's set-up,
      // mostly the test camera's pipeline start, is bounded above).
      const ratio = tl!.recorded_seconds / ((last - first) / 1000);
      expect(ratio).toBeGreaterThan(0.9);
      expect(ratio).toBeLessThan(1.1);

      for (const s of segs) {
        expect(s).toMatchObject({ codec: 'h264', width: 320 });
        const probe = await ffprobeJson(join(t.store.config.recordingsDirAbs, s.path));
        expect(probe.streams[0].codec_name).toBe('h264');
        expect(Number(probe.format?.duration)).toBeGreaterThan(0.5);
      }
      const gaps = (await t.http().get(`/api/v1/cameras/${id}/gaps`).expect(200)).body;
      expect(gaps.gap_count).toBe(0);
    }
    const health = (await t.http().get('/api/v1/health/cameras').expect(200)).body as Array<
      Record<string, unknown>
    >;
    expect(health.map((h) => h.camera_id)).toEqual(ids);
    for (const h of health) {
      expect(h).toMatchObject({ state: 'recording', reconnect_count: 0 });
      expect(h.bitrate_kbps).toBeGreaterThan(0);
      expect(h.segments_written).toBeGreaterThanOrEqual(6);
      expect(typeof h.pid).toBe('number');
    }
  });

  it('an outage of the camera is a camera_offline event and a gap with that cause; recording resumes by itself', async () => {
    const id = ids[0];
    const before = (await segments(id)).length;
    const pausedAt = Date.now();
    await cams[0].pause();
    await waitFor(
      async () => {
        const ev = await t.http().get(`/api/v1/events?camera_id=${id}&event_type=camera_offline`).expect(200);
        return ev.body.length > 0 ? ev.body : null;
      },
      15_000,
      'camera_offline event',
    );
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - pausedAt))));
    await cams[0].resume();
    const gap = await waitFor(
      async () => {
        const res = await t.http().get(`/api/v1/cameras/${id}/recording-gaps`).expect(200);
        return res.body[0] as { gap_seconds: number; cause: string } | undefined;
      },
      40_000,
      'the outage gap',
    );
    expect(gap.cause).toBe('camera_offline');
    expect(gap.gap_seconds).toBeGreaterThan(7);
    expect(gap.gap_seconds).toBeLessThan(30);
    const after = await segments(id);
    expect(after.length).toBeGreaterThan(before);
    const holes = (await t.http().get(`/api/v1/cameras/${id}/gaps`).expect(200)).body;
    expect(holes.gaps.map((g: { cause: string }) => g.cause)).toContain('camera_offline');
    const event = (await t.http().get(`/api/v1/events?camera_id=${id}&event_type=recording_gap`).expect(200))
      .body[0];
    expect(event).toMatchObject({ severity: 'warning', payload: { cause: 'camera_offline' } });
    const health = (await t.http().get(`/api/v1/cameras/${id}/health`).expect(200)).body;
    expect(health.reconnect_count).toBeGreaterThanOrEqual(1);
  });

  it('a kernel restart keeps the last segment playable and indexed; the hole is caused by server_down', async () => {
    const id = ids[1];
    await t.stopServer();
    // The newest day folder that holds footage (tomorrow's is made ahead, empty).
    const day = readdirSync(recDir(id))
      .sort()
      .filter((d) => readdirSync(join(recDir(id), d)).length > 0)
      .pop()!;
    const files = readdirSync(join(recDir(id), day)).sort();
    const lastBefore = `${day}/${files[files.length - 1]}`;
    const probe = await ffprobeJson(join(recDir(id), lastBefore));
    expect(Number(probe.format?.duration)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 5_000));

    t = await startTestApp({ env: RECORDING_ENV, store: t.store });
    const gap = await waitFor(
      async () => {
        const res = await t.http().get(`/api/v1/cameras/${id}/recording-gaps`).expect(200);
        return res.body[0] as { gap_seconds: number; cause: string } | undefined;
      },
      30_000,
      'the restart gap',
    );
    expect(gap.cause).toBe('server_down');
    expect(gap.gap_seconds).toBeGreaterThan(3);
    const segs = await segments(id);
    expect(segs.map((s) => s.path)).toContain(`${id}/${lastBefore}`);
  });

  it('a recording camera without new segments past max(3 × segment, 30 s) turns error (stale); the indexer brings it back', async () => {
    const id = ids[2];
    // Only a recording camera can go stale: after the restart above, wait for its first segment.
    await waitFor(
      async () => (await t.http().get(`/api/v1/cameras/${id}/health`).expect(200)).body.state === 'recording',
      30_000,
      'recording before the check',
    );
    // The check restarts each stale recorder at once, and the restart's spawn moves the camera on
    // to `connecting`: hold the restarts until the `error` state has been read, then let them run.
    const kicked: SupervisedProcess[] = [];
    const kick = jest.spyOn(SupervisedProcess.prototype, 'kick').mockImplementation(function (
      this: SupervisedProcess,
    ) {
      kicked.push(this);
    });
    try {
      // Jump the kernel's clock 40 s ahead for one health check: no segment is that fresh.
      await withClockAhead(t, 40_000, () => t.app.get(RecorderService).checkHealth());
      const h = (await t.http().get(`/api/v1/cameras/${id}/health`).expect(200)).body;
      expect(h.state).toBe('error');
      expect(h.last_error).toMatch(/no segments for \d+ s while recording/);
      expect(kicked.map((p) => p.name)).toContain(`recorder:${id}`);
    } finally {
      kick.mockRestore();
      for (const p of kicked) p.kick();
    }
    const ev = (await t.http().get(`/api/v1/events?camera_id=${id}&event_type=recorder_error`).expect(200))
      .body[0];
    expect(ev.payload).toMatchObject({ reason: 'stale', threshold_seconds: 30 });
    await waitFor(
      async () => (await t.http().get(`/api/v1/cameras/${id}/health`).expect(200)).body.state === 'recording',
      15_000,
      'recording again',
    );
  });

  it('changing how a camera is recorded restarts its recorder, never two ffmpegs at once', async () => {
    const id = ids[1];
    const pattern = `${recDir(id)}/%Y-%m-%d/%Y%m%d_%H%M%S.mp4`;
    const recorders = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(pattern);
          } catch {
            return false;
          }
        });
    // The stale check above kicked every recorder; wait for this one's restart after its backoff.
    await waitFor(
      async () => Promise.resolve(recorders().length === 1),
      15_000,
      'the recorder running again',
    );
    expect(recorders()).toHaveLength(1);
    const before = recorders()[0];
    await t.http().patch(`/api/v1/cameras/${id}`).send({ segment_seconds: 3 }).expect(200);
    const seen = new Set<number>();
    const deadline = Date.now() + 6_000;
    while (Date.now() < deadline) {
      seen.add(recorders().length);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(Math.max(...seen)).toBe(1);
    expect(recorders()).toHaveLength(1);
    expect(recorders()[0]).not.toBe(before);
    await t.http().patch(`/api/v1/cameras/${id}`).send({ name: 'Renamed only' }).expect(200);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(recorders()).toHaveLength(1); // a change that does not touch recording keeps the same child
  });

  it('disabling a camera stops its recorder', async () => {
    const id = ids[2];
    await t.http().patch(`/api/v1/cameras/${id}`).send({ enabled: false }).expect(200);
    const health = await waitFor(
      async () => {
        const h = (await t.http().get(`/api/v1/cameras/${id}/health`).expect(200)).body;
        return h.state === 'disabled' ? h : null;
      },
      10_000,
      'disabled state',
    );
    expect(health.pid).toBeNull();
  });
});
