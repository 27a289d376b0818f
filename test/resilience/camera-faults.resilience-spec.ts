import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { startTestApp, type TestApp } from '../support/test-app';
import { measureFault } from './recording-fault';
import { FaultProxy, type ProxyMode } from './fault-proxy';
import { Report } from './report';

const SEGMENT_S = 2;
/** The recorder's socket timeout (RECORD_IO_TIMEOUT_US); ffmpeg gives up on a silent source after ~3 of them. */
const IO_TIMEOUT_S = 5;

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

  const fault = (
    name: string,
    breakIt: () => unknown,
    heal: () => unknown,
    holdMs: number,
    detectWithinS: number,
  ) =>
    measureFault({
      t,
      report,
      cameraId: 'cf',
      segmentS: SEGMENT_S,
      name,
      breakIt,
      heal,
      holdMs,
      event: 'camera_offline',
      wrongEvent: 'storage_error',
      detectWithinS,
      cause: 'camera_offline',
    });

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
