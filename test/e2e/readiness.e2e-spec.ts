import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { Clock } from '../../src/common/clock';
import { HeldarConfig } from '../../src/config/heldar-config';
import { OverlayService } from '../../src/overlay/overlay.service';
import { ProcessRunner } from '../../src/process/process-runner';
import { startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

describe(`readiness quorum and remote access (${ENGINE})`, () => {
  let t: TestApp;
  let cam: TestCamera;

  beforeAll(async () => {
    cam = await startTestCamera({ width: 160, height: 120, fps: 5 });
    t = await startTestApp({
      env: {
        HELDAR_RECORDER_ENABLED: 'true',
        HELDAR_READYZ_MIN_RECORDING_PERCENT: '50',
        HELDAR_OVERLAY_ENABLED: 'true',
        HELDAR_OVERLAY_KIND: 'tailscale',
        HELDAR_OVERLAY_IFACE: 'lo',
        HELDAR_AI_ENABLED: 'false',
      },
    });
  });

  afterAll(async () => {
    await t?.close();
    await cam?.stop();
  });

  it('/readyz is 503 until enough of the cameras that should record are recording', async () => {
    // No camera that should record: 100 %.
    expect((await t.http().get('/readyz').expect(200)).body).toEqual({
      ready: true,
      recording_pct: 100,
      required_pct: 50,
    });
    await t
      .http()
      .post('/api/v1/cameras')
      .send({ id: 'rz_ok', name: 'OK', main_stream_url: cam.url, segment_seconds: 2 })
      .expect(201);
    await t
      .http()
      .post('/api/v1/cameras')
      .send({ id: 'rz_dead', name: 'Dead', main_stream_url: 'rtsp://127.0.0.1:9/none', segment_seconds: 2 })
      .expect(201);
    // A camera that is not meant to record does not count.
    await t
      .http()
      .post('/api/v1/cameras')
      .send({ id: 'rz_off', name: 'Off', record_enabled: false })
      .expect(201);
    const down = await t.http().get('/readyz').expect(503);
    expect(down.headers['retry-after']).toBe('15');
    expect(down.body).toEqual({
      ready: false,
      reason: 'insufficient_recorders',
      recording_pct: 0,
      required_pct: 50,
    });

    const up = await waitFor(
      async () => {
        const r = await t.http().get('/readyz');
        return r.status === 200 ? r.body : null;
      },
      30_000,
      'one of two recording cameras recording',
    );
    expect(up).toEqual({ ready: true, recording_pct: 50, required_pct: 50 });
    t.store.config.readyzMinRecordingPercent = 75;
    expect((await t.http().get('/readyz').expect(503)).body).toMatchObject({
      recording_pct: 50,
      required_pct: 75,
    });
    t.store.config.readyzMinRecordingPercent = 50;
  });

  it('reports the overlay interface in /system (present, up) and never for a camera-scoped view', async () => {
    const sys = (await t.http().get('/api/v1/system').expect(200)).body;
    expect(sys.remote_access).toEqual({
      enabled: true,
      kind: 'tailscale',
      iface: 'lo',
      present: true,
      operstate: 'unknown', // loopback, like a working WireGuard interface, reports "unknown"
      carrier: true,
      up: true,
      handshake_age_seconds: null,
      note: null,
    });
  });

  it('probes a missing interface, a disabled overlay, and WireGuard without a peer handshake', async () => {
    const probe = (env: Partial<HeldarConfig>) =>
      new OverlayService(new ProcessRunner(), new Clock(), Object.assign(new HeldarConfig(), env)).probe();
    expect(
      await probe({ overlayEnabled: true, overlayKind: 'wireguard', overlayIface: 'heldar-nope0' }),
    ).toEqual({
      enabled: true,
      kind: 'wireguard',
      iface: 'heldar-nope0',
      present: false,
      operstate: null,
      carrier: null,
      up: false,
      handshake_age_seconds: null,
      note: 'interface heldar-nope0 not found',
    });
    expect(await probe({ overlayEnabled: false })).toMatchObject({
      enabled: false,
      up: false,
      note: 'remote-access overlay not enabled',
    });
    expect(await probe({ overlayEnabled: true })).toMatchObject({
      present: false,
      note: 'HELDAR_OVERLAY_IFACE is not set',
    });
    // `lo` is no WireGuard interface: whether or not `wg` is installed, the handshake is unknown and said so.
    const wg = await probe({ overlayEnabled: true, overlayKind: 'wireguard', overlayIface: 'lo' });
    expect(wg).toMatchObject({ present: true, up: true, handshake_age_seconds: null });
    expect(wg.note).toMatch(/^(wg is not installed|wg show failed)/);
  });
});
