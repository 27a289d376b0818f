import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobeJson } from '../fixtures/ffprobe';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { ProcessSupervisor } from '../../src/process/process-supervisor.service';
import { HlsPublisherService } from '../../src/liveview/hls-publisher.service';
import { LiveviewService } from '../../src/liveview/liveview.service';
import { startTestApp, type TestApp, waitFor, withClockAhead } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const ADMIN = { username: 'root', password: 'root-password-1' };
const AUTH_ENV = {
  HELDAR_AUTH_ENABLED: 'true',
  HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
  HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
  HELDAR_LOGIN_RATE_LIMIT_PER_MIN: '0',
  HELDAR_RECORDER_ENABLED: 'false',
  HELDAR_AI_ENABLED: 'false',
};

async function login(t: TestApp, username: string, password: string): Promise<string> {
  return (await t.http().post('/api/v1/auth/login').send({ username, password }).expect(200)).body.token;
}

async function addViewer(
  t: TestApp,
  admin: string,
  username: string,
): Promise<{ id: string; token: string }> {
  const res = await t
    .http()
    .post('/api/v1/users')
    .set('Authorization', `Bearer ${admin}`)
    .send({ username, password: `${username}-password`, role: 'viewer' })
    .expect(201);
  return { id: res.body.id, token: await login(t, username, `${username}-password`) };
}

describe(`built-in live view (${ENGINE})`, () => {
  let t: TestApp;
  let cam: TestCamera;
  let admin: string;
  let viewer: { id: string; token: string };
  const bearer = (tok: string) => ({ Authorization: `Bearer ${tok}` });

  beforeAll(async () => {
    cam = await startTestCamera({ width: 320, height: 240, fps: 10, sub: { width: 160, height: 120 } });
    t = await startTestApp({ env: { ...AUTH_ENV, HELDAR_LIVE_IDLE_CLOSE_SECS: '20' } });
    admin = await login(t, ADMIN.username, ADMIN.password);
    for (const [id, url] of [
      ['lv1', cam.url],
      ['lv2', cam.url],
    ]) {
      await t
        .http()
        .post('/api/v1/cameras')
        .set(bearer(admin))
        .send({ id, name: id, main_stream_url: url, sub_stream_url: cam.subUrl, password: 'cam-secret-pw' })
        .expect(201);
    }
    viewer = await addViewer(t, admin, 'watcher');
  });

  afterAll(async () => {
    await t?.close();
    await cam?.stop();
  });

  it('serves the sub stream as token-gated HLS, stream-copied H.264, without ever showing the camera URL', async () => {
    const res = await t.http().get('/api/v1/cameras/lv1/liveview').set(bearer(viewer.token)).expect(200);
    const body = res.body as {
      hls_url: string;
      token: string;
      mode: string;
      ready: boolean;
      expires_at: string;
    };
    expect(body).toMatchObject({
      name: 'cam_lv1',
      mode: 'builtin',
      webrtc_url: null,
      rtsp_url: null,
      ready: true,
    });
    expect(body.hls_url).toBe(`/live/cam_lv1/index.m3u8?token=${encodeURIComponent(body.token)}`);
    expect(JSON.stringify(body)).not.toMatch(/rtsp:|cam-secret-pw|127\.0\.0\.1/);
    const ttl = (Date.parse(body.expires_at) - Date.now()) / 1000;
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);

    const playlist = await waitFor(
      async () => {
        const r = await t.http().get(body.hls_url).expect(200);
        return /seg_\d+\.ts/.test(r.text) ? r : null;
      },
      15_000,
      'a playlist with a segment',
    );
    expect(playlist.headers['content-type']).toMatch(/mpegurl/);
    expect(playlist.headers['cache-control']).toBe('no-store');
    const segLines = playlist.text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(segLines.length).toBeGreaterThan(0);
    for (const l of segLines)
      expect(l).toMatch(
        new RegExp(
          `^seg_\\d{6}\\.ts\\?token=${encodeURIComponent(body.token).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
        ),
      );
    expect(playlist.text).toMatch(/#EXT-X-TARGETDURATION:[12]\b/);

    const seg = await t
      .http()
      .get(`/live/cam_lv1/${segLines[0]}`)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(seg.headers['content-type']).toBe('video/mp2t');
    const dir = mkdtempSync(join(tmpdir(), 'heldar-live-'));
    const file = join(dir, 'seg.ts');
    writeFileSync(file, seg.body as Buffer);
    const probe = await ffprobeJson(file);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    expect(video).toMatchObject({ codec_name: 'h264', width: 160, height: 120 }); // the sub stream, not re-encoded
  });

  it('a live view writes one view_live audit row per viewer and camera, however often its URLs are asked for', async () => {
    await t.http().get('/api/v1/cameras/lv1/liveview').set(bearer(viewer.token)).expect(200);
    await t.http().post('/api/v1/cameras/lv1/liveview').set(bearer(viewer.token)).expect(200);
    const rows = (
      await t
        .http()
        .get('/api/v1/audit?action=view_*&camera_id=lv1&limit=1000')
        .set(bearer(admin))
        .expect(200)
    ).body.entries as Array<Record<string, unknown>>;
    expect(rows.filter((r) => r.actor_id === viewer.id)).toEqual([
      expect.objectContaining({
        action: 'view_live',
        target_type: 'camera',
        target_id: 'lv1',
        subject_camera_id: 'lv1',
        detail: { camera_id: 'lv1', mode: 'builtin' },
      }),
    ]);
  });

  it('refuses missing, forged and other-camera tokens, and file names outside the playlist', async () => {
    const lv1 = (await t.http().get('/api/v1/cameras/lv1/liveview').set(bearer(viewer.token)).expect(200))
      .body;
    await t.http().get('/api/v1/cameras/lv2/liveview').set(bearer(viewer.token)).expect(200);
    const tok = encodeURIComponent(lv1.token as string);
    const denied = await t.http().get('/live/cam_lv1/index.m3u8').expect(403);
    expect(denied.body).toEqual({
      error: expect.stringMatching(/live-view token/),
      code: 'LIVE_TOKEN_INVALID',
    });
    await t.http().get(`/live/cam_lv2/index.m3u8?token=${tok}`).expect(403); // signed for cam_lv1 only
    const forged = (lv1.token as string).replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A'));
    await t
      .http()
      .get(`/live/cam_lv1/index.m3u8?token=${encodeURIComponent(forged)}`)
      .expect(403);
    for (const bad of ['..%2F..%2Fsecret.key', 'index.m3u8.bak', 'seg_1.ts', 'x.mp4', '%2e%2e']) {
      const r = await t.http().get(`/live/cam_lv1/${bad}?token=${tok}`);
      expect({ bad, status: r.status, code: r.body.code }).toEqual({
        bad,
        status: 400,
        code: 'LIVE_FILE_INVALID',
      });
    }
    await t.http().get('/api/v1/cameras/nope/liveview').set(bearer(admin)).expect(404);
  });

  it('a withdrawn credential loses its stream at the next request (deactivated user, revoked key, scope moved)', async () => {
    const other = await addViewer(t, admin, 'leaver');
    const lv = (await t.http().get('/api/v1/cameras/lv1/liveview').set(bearer(other.token)).expect(200)).body;
    await t.http().get(lv.hls_url).expect(200);
    await t.http().patch(`/api/v1/users/${other.id}`).set(bearer(admin)).send({ active: false }).expect(200);
    await t.http().get(lv.hls_url).expect(403);

    const key = (
      await t
        .http()
        .post('/api/v1/api-keys')
        .set(bearer(admin))
        .send({
          name: 'wall',
          capabilities: ['video:live', 'camera:read'],
          scope_kind: 'cameras',
          scope_cameras: ['lv1'],
        })
        .expect(201)
    ).body as { id: string; key: string };
    const viaKey = (await t.http().get('/api/v1/cameras/lv1/liveview').set('X-API-Key', key.key).expect(200))
      .body;
    await t.http().get('/api/v1/cameras/lv2/liveview').set('X-API-Key', key.key).expect(403);
    await t.http().get(viaKey.hls_url).expect(200);
    await t
      .http()
      .patch(`/api/v1/api-keys/${key.id}`)
      .set(bearer(admin))
      .send({ scope_cameras: ['lv2'] })
      .expect(200);
    await t.http().get(viaKey.hls_url).expect(403);
    await t
      .http()
      .patch(`/api/v1/api-keys/${key.id}`)
      .set(bearer(admin))
      .send({ scope_cameras: ['lv1'] })
      .expect(200);
    await t.http().get(viaKey.hls_url).expect(200);
    await t.http().patch(`/api/v1/api-keys/${key.id}`).set(bearer(admin)).send({ revoked: true }).expect(200);
    await t.http().get(viaKey.hls_url).expect(403);
  });

  it('stops an idle publisher (files removed), restarts on demand, and stops when the camera is disabled', async () => {
    const sup = t.app.get(ProcessSupervisor);
    const hls = t.app.get(HlsPublisherService);
    const lv = (await t.http().get('/api/v1/cameras/lv1/liveview').set(bearer(viewer.token)).expect(200))
      .body;
    expect(sup.get('live:lv1')).toBeDefined();
    const dir = hls.dirOf('lv1');
    expect(existsSync(join(dir, 'index.m3u8'))).toBe(true);
    // Nothing was requested for longer than HELDAR_LIVE_IDLE_CLOSE_SECS (the clock jumps ahead).
    const reaped = await withClockAhead(t, 21_000, () => hls.reapIdle());
    expect(reaped.sort()).toEqual(['lv1', 'lv2']);
    expect(sup.get('live:lv1')).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    const gone = await t.http().get(lv.hls_url).expect(404);
    expect(gone.body.code).toBe('LIVE_NOT_RUNNING');

    await t.http().get('/api/v1/cameras/lv1/liveview').set(bearer(viewer.token)).expect(200);
    expect(sup.get('live:lv1')).toBeDefined();
    // A request keeps it alive: reaping "now" stops nothing.
    await t.http().get(lv.hls_url).expect(200);
    expect(await hls.reapIdle()).toEqual([]);
    await t.http().patch('/api/v1/cameras/lv1').set(bearer(admin)).send({ enabled: false }).expect(200);
    await waitFor(
      async () => sup.get('live:lv1') === undefined,
      5_000,
      'the publisher of a disabled camera to stop',
    );
    const refused = await t.http().get('/api/v1/cameras/lv1/liveview').set(bearer(viewer.token)).expect(400);
    expect(refused.body.code).toBe('CAMERA_DISABLED');
    await t.http().get(lv.hls_url).expect(403);
  });
});

interface Call {
  method: string;
  url: string;
  body: unknown;
}

/**
 * A stand-in for MediaMTX's v3 control API (MediaMTX is not installable here): the endpoints the
 * broker uses, with MediaMTX's status codes (404 unknown path, 400 add of an existing path), and
 * every request recorded so the tests assert exactly what the kernel asked.
 */
class MediaMtxDouble {
  readonly calls: Call[] = [];
  readonly paths = new Map<string, Record<string, unknown>>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    let text = '';
    for await (const c of req) text += String(c);
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    const url = req.url ?? '';
    this.calls.push({ method: req.method ?? '', url, body });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const m = /^\/v3\/(config\/paths\/(get|add|patch|delete)|paths\/get)\/([^?]+)$/.exec(url);
    if (req.method === 'GET' && url.startsWith('/v3/config/paths/list')) {
      const items = [...this.paths.entries()].map(([name, conf]) => ({ name, ...conf }));
      return send(200, { pageCount: 1, itemCount: items.length, items });
    }
    if (!m) return send(404, { status: 'error', error: 'not found' });
    const name = decodeURIComponent(m[3]);
    const conf = this.paths.get(name);
    switch (m[2] ?? 'runtime') {
      case 'get':
        return conf ? send(200, { name, ...conf }) : send(404, { status: 'error', error: 'path not found' });
      case 'add':
        if (conf) return send(400, { status: 'error', error: 'path already exists' });
        this.paths.set(name, { ...body });
        return send(200, { status: 'ok' });
      case 'patch':
        if (!conf) return send(404, { status: 'error', error: 'path not found' });
        this.paths.set(name, { ...conf, ...body });
        return send(200, { status: 'ok' });
      case 'delete':
        if (!conf) return send(404, { status: 'error', error: 'path not found' });
        this.paths.delete(name);
        return send(200, { status: 'ok' });
      default:
        return conf ? send(200, { name, ready: false, readers: [] }) : send(404, { status: 'error' });
    }
  }

  take(): Array<[string, string, unknown?]> {
    const out = this.calls.map((c) =>
      c.body === undefined ? [c.method, c.url] : [c.method, c.url, c.body],
    ) as Array<[string, string, unknown?]>;
    this.calls.length = 0;
    return out;
  }
}

describe(`live view through MediaMTX (${ENGINE})`, () => {
  let t: TestApp;
  let mtx: MediaMtxDouble;
  let admin: string;
  const bearer = (tok: string) => ({ Authorization: `Bearer ${tok}` });
  const SRC = 'rtsp://192.0.2.10:554/Streaming/Channels/102';

  beforeAll(async () => {
    mtx = new MediaMtxDouble();
    await mtx.start();
    // The periodic reconcile is slowed down so the calls each step makes are exactly what is asserted.
    t = await startTestApp({
      env: { ...AUTH_ENV, HELDAR_MEDIAMTX_API_URL: mtx.url, HELDAR_LIVE_RECONCILE_INTERVAL_S: '3600' },
    });
    admin = await login(t, ADMIN.username, ADMIN.password);
    await t
      .http()
      .post('/api/v1/cameras')
      .set(bearer(admin))
      .send({
        id: 'door',
        name: 'Door',
        vendor: 'hikvision',
        address: '192.0.2.10',
        username: 'admin',
        password: 'p@ss word',
      })
      .expect(201);
  });

  afterAll(async () => {
    await t?.close();
    await mtx?.stop();
  });

  it('creates the cam_<id> path pulling the sub stream on demand, then only checks it; URLs carry the token', async () => {
    const viewer = await addViewer(t, admin, 'mtxviewer');
    mtx.take();
    const res = await t
      .http()
      .get('/api/v1/cameras/door/liveview')
      .set(bearer(viewer.token))
      .set('Host', 'nvr.example:8080')
      .expect(200);
    const source = 'rtsp://admin:p%40ss%20word@192.0.2.10:554/Streaming/Channels/102';
    expect(mtx.take()).toEqual([
      ['GET', '/v3/config/paths/get/cam_door'],
      ['POST', '/v3/config/paths/add/cam_door', { source, sourceOnDemand: true, rtspTransport: 'tcp' }],
    ]);
    const q = `token=${encodeURIComponent(res.body.token)}`;
    expect(res.body).toEqual({
      name: 'cam_door',
      mode: 'mediamtx',
      hls_url: `http://nvr.example:8888/cam_door/index.m3u8?${q}`,
      webrtc_url: `http://nvr.example:8889/cam_door/whep?${q}`,
      rtsp_url: `rtsp://nvr.example:8554/cam_door?${q}`,
      token: res.body.token,
      expires_at: expect.any(String),
      ready: true,
    });
    expect(JSON.stringify(res.body)).not.toMatch(/admin:|p%40ss|192\.0\.2\.10/);

    await t.http().post('/api/v1/cameras/door/liveview').set(bearer(viewer.token)).expect(200);
    expect(mtx.take()).toEqual([['GET', '/v3/config/paths/get/cam_door']]);
  });

  it('answers the auth callback: publish from loopback only, read with a valid token for that path whose subject stands', async () => {
    const viewer = await addViewer(t, admin, 'cbviewer');
    const { token } = (
      await t.http().get('/api/v1/cameras/door/liveview').set(bearer(viewer.token)).expect(200)
    ).body;
    const auth = (body: Record<string, unknown>) =>
      t
        .http()
        .post('/internal/mediamtx-auth')
        .send({ user: '', password: '', token: '', id: null, protocol: 'hls', query: '', ...body });
    await auth({ ip: '127.0.0.1', action: 'publish', path: 'cam_door' }).expect(200);
    await auth({ ip: '::1', action: 'api', path: '' }).expect(200);
    await auth({ ip: '192.168.1.5', action: 'publish', path: 'cam_door' }).expect(403);
    await auth({
      ip: '203.0.113.9',
      action: 'read',
      path: 'cam_door',
      query: `token=${encodeURIComponent(token)}`,
    }).expect(200);
    await auth({ ip: '203.0.113.9', action: 'read', path: 'cam_door', token, protocol: 'webrtc' }).expect(
      200,
    );
    await auth({ ip: '203.0.113.9', action: 'playback', path: 'cam_door', token }).expect(200);
    await auth({ ip: '192.168.1.5', action: 'read', path: 'cam_door' }).expect(403); // auth on: no LAN bypass
    await auth({ ip: '203.0.113.9', action: 'read', path: 'cam_other', token }).expect(403);
    await auth({ ip: '203.0.113.9', action: 'read', path: 'cam_door', token: `${token}x` }).expect(403);
    await auth({ ip: '203.0.113.9', action: 'unknown', path: 'cam_door', token }).expect(403);
    const denied = await t.http().post('/internal/mediamtx-auth').send({}).expect(403);
    expect(denied.body).toEqual({ error: 'denied', code: 'LIVE_DENIED' });
    await t
      .http()
      .post('/internal/mediamtx-auth')
      .send('not json')
      .set('content-type', 'application/json')
      .expect(400);
    await t.http().patch(`/api/v1/users/${viewer.id}`).set(bearer(admin)).send({ active: false }).expect(200);
    await auth({ ip: '203.0.113.9', action: 'read', path: 'cam_door', token }).expect(403);
  });

  it('follows camera changes: a new source patches the path, disabling or deleting the camera removes it', async () => {
    mtx.take();
    await t.http().patch('/api/v1/cameras/door').set(bearer(admin)).send({ sub_stream_url: SRC }).expect(200);
    await waitFor(async () => mtx.calls.some((c) => c.method === 'PATCH'), 5_000, 'the path patch');
    expect(mtx.take()).toEqual([
      ['GET', '/v3/config/paths/get/cam_door'],
      [
        'PATCH',
        '/v3/config/paths/patch/cam_door',
        { source: SRC, sourceOnDemand: true, rtspTransport: 'tcp' },
      ],
    ]);
    await t.http().patch('/api/v1/cameras/door').set(bearer(admin)).send({ enabled: false }).expect(200);
    await waitFor(async () => !mtx.paths.has('cam_door'), 5_000, 'the path delete');
    expect(mtx.take()).toEqual([['DELETE', '/v3/config/paths/delete/cam_door']]);
    await t.http().patch('/api/v1/cameras/door').set(bearer(admin)).send({ enabled: true }).expect(200);
    await t.http().get('/api/v1/cameras/door/liveview').set(bearer(admin)).expect(200);
    expect(mtx.paths.has('cam_door')).toBe(true);
    mtx.take();
    await t.http().delete('/api/v1/cameras/door').set(bearer(admin)).expect(204);
    await waitFor(
      async () => !mtx.paths.has('cam_door'),
      5_000,
      'the path delete after the camera is deleted',
    );
  });

  it('the reconcile removes cam_ paths of cameras that no longer exist and leaves other paths alone', async () => {
    mtx.paths.set('cam_ghost', { source: 'rtsp://x/y' });
    mtx.paths.set('lobby_manual', { source: 'rtsp://x/z' });
    mtx.take();
    await t.app.get(LiveviewService).reconcileAll();
    expect(mtx.take()).toEqual([
      ['GET', '/v3/config/paths/list?page=0&itemsPerPage=500'],
      ['DELETE', '/v3/config/paths/delete/cam_ghost'],
    ]);
    expect([...mtx.paths.keys()]).toEqual(['lobby_manual']);
  });

  it('a MediaMTX that does not answer is a 502 with a clear message, not a hang', async () => {
    await t
      .http()
      .post('/api/v1/cameras')
      .set(bearer(admin))
      .send({ id: 'yard', name: 'Yard', main_stream_url: SRC })
      .expect(201);
    await mtx.stop();
    const res = await t.http().get('/api/v1/cameras/yard/liveview').set(bearer(admin)).expect(502);
    expect(res.body).toEqual({
      error: expect.stringMatching(/^MediaMTX did not answer/),
      code: 'MEDIAMTX_UNAVAILABLE',
    });
    await mtx.start(); // for afterAll
  });
});
