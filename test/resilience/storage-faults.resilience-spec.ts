import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { startTestApp, type TestApp } from '../support/test-app';
import { measureFault } from './recording-fault';
import { Report } from './report';

const SEGMENT_S = 2;

/**
 * The camera's recordings directory turned read-only (a real read-only mount laid over it, so
 * every new file gets EROFS) or removed while recording: a clear storage_error (status and
 * events), restarts under backoff (no crash loop), recovery when the storage returns, and the
 * hole's cause `storage_error`.
 */
describe('storage faults while recording', () => {
  const report = new Report('storage_faults');
  let t: TestApp;
  let cam: TestCamera;
  let camDir = '';

  beforeAll(async () => {
    cam = await startTestCamera({ width: 320, height: 240, fps: 5 });
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
      .send({ id: 'sf', name: 'Storage', main_stream_url: cam.url, segment_seconds: SEGMENT_S })
      .expect(201);
    camDir = join(t.store.config.recordingsDirAbs, 'sf');
  });

  afterAll(async () => {
    await t?.close();
    await cam?.stop();
    try {
      execFileSync('umount', ['-l', camDir], { stdio: 'ignore' });
    } catch {
      /* not mounted */
    }
  });

  const fault = async (name: string, breakIt: () => unknown, heal: () => unknown, holdMs: number) => {
    const status = await measureFault({
      t,
      report,
      cameraId: 'sf',
      segmentS: SEGMENT_S,
      name,
      breakIt,
      heal,
      holdMs,
      event: 'storage_error',
      wrongEvent: 'camera_offline',
      detectWithinS: SEGMENT_S + 5,
      cause: 'storage_error',
    });
    // The operator sees why in the camera's status: ffmpeg's own line about the storage.
    report.check(`${name}_status_error`, status.state === 'error' ? 1 : 0, '== 1', {
      note: `${status.state}: ${status.lastError?.slice(0, 160)}`,
    });
  };

  it('the recordings volume turns read-only, then writable again', async () => {
    await fault(
      'read_only',
      // Needs root (the suite runs as root, like CI): a failure to mount fails the test.
      () => execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', camDir]),
      () => execFileSync('umount', [camDir]),
      12_000,
    );
  });

  it("the camera's recordings directory is removed", async () => {
    // Recreated by the kernel at the next start of the recorder (nothing to heal by hand).
    await fault(
      'dir_removed',
      () => rmSync(camDir, { recursive: true, force: true }),
      () => undefined,
      1000,
    );
    expect((await t.http().get('/healthz').expect(200)).body).toEqual({ status: 'ok' });
  });
});
