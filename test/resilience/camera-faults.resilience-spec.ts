import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { startTestApp, type TestApp, waitFor } from '../support/test-app';
import { FaultProxy, type ProxyMode } from './fault-proxy';
import { Report } from './report';

const SEGMENT_S = 2;
/** ffmpeg's own start (probe of the input) and the indexer's cadence, on top of backoff + a segment. */
const SLACK_S = 4;
/** The recorder's socket timeout (RECORD_IO_TIMEOUT_US); ffmpeg gives up on a silent source after ~3 of them. */
const IO_TIMEOUT_S = 5;

interface Gap {
  gap_start: string;
  gap_end: string;
  gap_seconds: number;
  cause: string;
}

describe('camera faults: the source stops, stalls, sends garbage', () => {
  const report = new Report('camera_faults');
  let t: TestApp;
  let cam: TestCamera;
  let proxy: FaultProxy;

  beforeAll(async () => {
    cam = await startTestCamera({ width: 320, height: 240, fps: 5 });
    proxy = new FaultProxy(cam.port);
    await proxy.start();
    t = await startTestApp({
      env: {
        HELDAR_RECORDER_ENABLED: 'true',
        HELDAR_INDEXER_INTERVAL_S: '1',
        HELDAR_HEALTH_INTERVAL_S: '2',
        HELDAR_AI_ENABLED: 'false',
      },
    });
    await t
      .http()
      .post('/api/v1/cameras')
      .send({
        id: 'cf',
        name: 'Faulty',
        main_stream_url: `rtsp://127.0.0.1:${proxy.port}${cam.path}`,
        segment_seconds: SEGMENT_S,
      })
      .expect(201);
  });

  afterAll(async () => {
    await t?.close();
    await proxy?.stop();
    await cam?.stop();
  });

  /** Resolves when a segment that started after `sinceMs` is indexed; returns when it ended. */
  const recordedAfter = (sinceMs: number, timeoutMs: number) =>
    waitFor(
      async () => {
        const segs = (
          await t
            .http()
            .get(`/api/v1/cameras/cf/segments?from=${new Date(sinceMs).toISOString()}`)
            .expect(200)
        ).body as Array<{ start_time: string }>;
        return segs.find((s) => Date.parse(s.start_time) > sinceMs) ? Date.now() : null;
      },
      timeoutMs,
      'a segment recorded after the source came back',
    );
  const offlineEvents = async (sinceSeq: number) =>
    (
      await t
        .http()
        .get(`/api/v1/events?camera_id=cf&event_type=camera_offline&since_seq=${sinceSeq}&limit=1000`)
        .expect(200)
    ).body as Array<{ seq: number; timestamp: string; payload: { restart_in_seconds: number | null } }>;
  const lastSeq = async () => {
    const ev = (await t.http().get('/api/v1/events?limit=1').expect(200)).body as Array<{ seq: number }>;
    return ev[0]?.seq ?? 0;
  };

  /**
   * One fault: break the source, keep it broken for `holdMs`, heal it, then measure. The bound is
   * the restart delay the recorder announced last (its backoff) + one segment + slack.
   */
  async function fault(
    name: string,
    breakIt: () => Promise<void>,
    heal: () => Promise<void>,
    holdMs: number,
    detectWithinS: number,
  ) {
    await recordedAfter(Date.now() - 1000, 30_000); // recording before the fault
    const seq = await lastSeq();
    const brokeAt = Date.now();
    await breakIt();
    const first = await waitFor(
      async () => (await offlineEvents(seq))[0],
      detectWithinS * 1000 + 5000,
      `${name}: camera_offline`,
    );
    const detectedS = (Date.parse(first.timestamp) - brokeAt) / 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, holdMs - (Date.now() - brokeAt))));
    const healedAt = Date.now();
    await heal();
    const events = await offlineEvents(seq);
    const backoffS = Math.max(...events.map((e) => e.payload.restart_in_seconds ?? 0));
    // The first segment of a run is about twice as long (ffmpeg buffers its input probe).
    const boundS = backoffS + 2 * SEGMENT_S + SLACK_S;
    const recoveredAt = await recordedAfter(healedAt, (boundS + 20) * 1000);
    const recoveryS = Math.round((recoveredAt - healedAt) / 100) / 10;
    // The hole it left, with its cause.
    const gap = await waitFor(
      async () => {
        const gaps = (await t.http().get('/api/v1/cameras/cf/recording-gaps').expect(200)).body as Gap[];
        return gaps.find((g) => Date.parse(g.gap_end) > brokeAt && Date.parse(g.gap_start) < healedAt + 1000);
      },
      10_000,
      `${name}: the recording gap`,
    );
    report.info(
      `${name}_restart_delays_s`,
      events.map((e) => e.payload.restart_in_seconds),
    );
    report.info(`${name}_gap_seconds`, gap.gap_seconds);
    report.check(`${name}_detected_s`, Math.round(detectedS * 10) / 10, `<= ${detectWithinS}`);
    report.check(`${name}_recovery_s_over_bound`, Math.round((recoveryS - boundS) * 10) / 10, '<= 0', {
      note: `recovered ${recoveryS} s after the source was healthy; bound ${boundS} s = last backoff ${backoffS} + first segment ${2 * SEGMENT_S} + ${SLACK_S}`,
    });
    report.check(`${name}_gap_cause_camera_offline`, gap.cause === 'camera_offline' ? 1 : 0, '== 1', {
      note: gap.cause,
    });
  }

  const mode = (m: ProxyMode) => async () => proxy.set(m);

  it('a source that goes away: offline at once, recording again within backoff + a segment, gap camera_offline', async () => {
    await fault(
      'stops',
      () => cam.pause(),
      () => cam.resume(),
      5000,
      3,
    );
  });

  it('a source that stalls mid-stream (connected, silent): ended by the socket timeout, then recovered', async () => {
    await fault('stalls', mode('stall'), mode('forward'), 1000, 3 * IO_TIMEOUT_S + 3);
  });

  it('a source that answers garbage: refused at once, recovered when it speaks RTSP again', async () => {
    await fault('garbage', mode('garbage'), mode('forward'), 5000, 3);
    const health = (await t.http().get('/api/v1/cameras/cf/health').expect(200)).body as { state: string };
    expect(health.state).toBe('recording');
  });
});
