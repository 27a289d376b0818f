import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ffprobeJson } from '../fixtures/ffprobe';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { rawQuery, startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

describe(`cameras and sites over HTTP (${ENGINE})`, () => {
  let t: TestApp;
  let cam: TestCamera;

  beforeAll(async () => {
    [t, cam] = await Promise.all([startTestApp(), startTestCamera({ width: 320, height: 240, fps: 5 })]);
  });

  afterAll(async () => {
    await Promise.all([t?.close(), cam?.stop()]);
  });

  it('creates a camera from a vendor template; the password is sealed at rest and never returned', async () => {
    const res = await t
      .http()
      .post('/api/v1/cameras')
      .send({
        name: 'Front Door',
        vendor: 'hikvision',
        address: '127.0.0.1',
        username: 'admin',
        password: 'p@ss:w/rd',
      })
      .expect(201);
    expect(res.body).toMatchObject({
      id: 'front_door',
      name: 'Front Door',
      vendor: 'hikvision',
      has_password: true,
      record_stream: 'main',
      record_url_masked: 'rtsp://***@127.0.0.1:554/Streaming/Channels/101',
      segment_seconds: 60,
      retention_hours: 24,
      enabled: true,
      priority: 100,
    });
    expect(res.body).not.toHaveProperty('password');
    expect(JSON.stringify(res.body)).not.toContain('p@ss');

    const [row] = await rawQuery(t, "SELECT password FROM cameras WHERE id = 'front_door'");
    expect(String(row.password)).toMatch(/^enc:v2:/);
    expect(String(row.password)).not.toContain('p@ss');

    const list = await t.http().get('/api/v1/cameras').expect(200);
    expect(list.body.map((c: { id: string }) => c.id)).toEqual(['front_door']);
    expect(JSON.stringify(list.body)).not.toContain('p@ss');
  });

  it('masks credentials in explicit stream URLs', async () => {
    const res = await t
      .http()
      .post('/api/v1/cameras')
      .send({ id: 'Lobby Cam', name: 'Lobby', main_stream_url: 'rtsp://u:secret@127.0.0.1:8554/live' })
      .expect(201);
    expect(res.body.id).toBe('lobby_cam');
    expect(res.body.main_stream_url).toBe('rtsp://***@127.0.0.1:8554/live');
    expect(res.body.record_url_masked).toBe('rtsp://***@127.0.0.1:8554/live');
    expect(JSON.stringify(res.body)).not.toContain('secret');
    const [row] = await rawQuery(t, "SELECT main_stream_url FROM cameras WHERE id = 'lobby_cam'");
    expect(String(row.main_stream_url)).toMatch(/^enc:v2:/);
  });

  it.each([
    [{ name: 'x', vendor: 'acme' }, /vendor must be one of: hikvision/],
    [{ name: '   ' }, /name must not be empty/],
    [{ name: 'x', main_stream_url: 'ftp://cam/x' }, /main_stream_url must be an rtsp/],
    [{ name: 'x', main_stream_url: 'rtsp://cam/x y' }, /main_stream_url must be an rtsp/],
    [{ name: 'x', address: 'evil host' }, /address must not contain whitespace/],
    [{ name: 'x', rtsp_port: 70000 }, /rtsp_port must not be greater than 65535/],
    [{ name: 'x', url_template: 'rtsp://{host}/{nope}' }, /url_template/],
    [{ name: 'x', segment_seconds: 'ten' }, /segment_seconds must be an integer/],
    [{ name: 'x', password: 123 }, /password must be a string/],
    [{ name: 'x', is_admin: true }, /property is_admin should not exist/],
    [{ name: 'x', site_id: 'nowhere' }, /site `nowhere` does not exist/],
  ])('rejects %j with a 400 envelope', async (body, message) => {
    const res = await t.http().post('/api/v1/cameras').send(body).expect(400);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'error']);
    expect(res.body.error).toMatch(message);
  });

  it('clamps segment and retention like the reference', async () => {
    const res = await t
      .http()
      .post('/api/v1/cameras')
      .send({ name: 'Clamped', segment_seconds: 1, retention_hours: 999999 })
      .expect(201);
    expect(res.body.segment_seconds).toBe(2);
    expect(res.body.retention_hours).toBe(43800);
    const patched = await t
      .http()
      .patch('/api/v1/cameras/clamped')
      .send({ segment_seconds: 99999 })
      .expect(200);
    expect(patched.body.segment_seconds).toBe(3600);
  });

  it('409 on an existing id, 404 on a missing one', async () => {
    const res = await t.http().post('/api/v1/cameras').send({ name: 'front door' }).expect(409);
    expect(res.body).toEqual({ error: 'camera `front_door` already exists', code: 'CAMERA_EXISTS' });
    const missing = await t.http().get('/api/v1/cameras/nope').expect(404);
    expect(missing.body).toEqual({ error: 'camera `nope` not found', code: 'CAMERA_NOT_FOUND' });
    await t.http().patch('/api/v1/cameras/nope').send({ name: 'x' }).expect(404);
    await t.http().delete('/api/v1/cameras/nope').expect(404);
  });

  it('sites: CRUD, timezone validation, camera assignment and SET NULL on delete', async () => {
    const site = await t
      .http()
      .post('/api/v1/sites')
      .send({ name: 'HQ Berlin', timezone: 'Europe/Berlin' })
      .expect(201);
    expect(site.body).toMatchObject({ id: 'hq_berlin', name: 'HQ Berlin', timezone: 'Europe/Berlin' });
    await t.http().post('/api/v1/sites').send({ name: 'Bad', timezone: 'Mars/Olympus' }).expect(400);
    await t.http().post('/api/v1/sites').send({ name: 'HQ Berlin' }).expect(409);
    const renamed = await t.http().patch('/api/v1/sites/hq_berlin').send({ name: 'HQ' }).expect(200);
    expect(renamed.body.name).toBe('HQ');
    const assigned = await t
      .http()
      .patch('/api/v1/cameras/lobby_cam')
      .send({ site_id: 'hq_berlin' })
      .expect(200);
    expect(assigned.body.site_id).toBe('hq_berlin');
    expect((await t.http().get('/api/v1/sites').expect(200)).body.map((s: { id: string }) => s.id)).toEqual([
      'hq_berlin',
    ]);
    await t.http().delete('/api/v1/sites/hq_berlin').expect(204);
    await t.http().get('/api/v1/sites/hq_berlin').expect(404);
    expect((await t.http().get('/api/v1/cameras/lobby_cam').expect(200)).body.site_id).toBeNull();
  });

  it('PATCH changes only what is sent; clearing the password works', async () => {
    const res = await t
      .http()
      .patch('/api/v1/cameras/front_door')
      .send({ password: null, priority: 7 })
      .expect(200);
    expect(res.body).toMatchObject({
      has_password: false,
      priority: 7,
      name: 'Front Door',
      vendor: 'hikvision',
    });
    expect(res.body.record_url_masked).toBe('rtsp://***@127.0.0.1:554/Streaming/Channels/101');
  });

  it('writes audit rows and events for each change, without credentials', async () => {
    const audit = await rawQuery(
      t,
      "SELECT action, target_id, detail FROM audit_log WHERE target_type = 'camera'",
    );
    expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(['create_camera', 'update_camera']));
    expect(JSON.stringify(audit)).not.toContain('p@ss');
    const events = await t.http().get('/api/v1/events?event_type=camera_*&since_seq=0').expect(200);
    expect(events.body[0]).toMatchObject({
      event_type: 'camera_created',
      camera_id: 'front_door',
      severity: 'info',
    });
    const seqs = events.body.map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('lists vendors with their URL shapes', async () => {
    const res = await t.http().get('/api/v1/camera-vendors').expect(200);
    const ids = res.body.map((v: { id: string }) => v.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'hikvision',
        'dahua',
        'amcrest',
        'axis',
        'reolink',
        'uniview',
        'hanwha',
        'tapo',
        'foscam',
        'generic',
      ]),
    );
    expect(res.body.find((v: { id: string }) => v.id === 'hikvision').main_url).toContain(
      '/Streaming/Channels/',
    );
  });

  it('POST /test probes the real RTSP camera: h264 at its size, credentials masked', async () => {
    const withCreds = cam.url.replace('rtsp://', 'rtsp://viewer:s3cret@');
    await t.http().post('/api/v1/cameras').send({ name: 'Test Cam', main_stream_url: withCreds }).expect(201);
    const res = await t.http().post('/api/v1/cameras/test_cam/test').expect(200);
    expect(res.body).toMatchObject({ reachable: true, codec: 'h264', width: 320, height: 240 });
    expect(res.body.url).toBe(cam.url.replace('rtsp://', 'rtsp://***@'));
  });

  it('a live snapshot is a JPEG from the camera', async () => {
    const res = await t.http().get('/api/v1/cameras/test_cam/snapshot').buffer(true).expect(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect((res.body as Buffer).subarray(0, 2).toString('hex')).toBe('ffd8');
    const file = join(t.store.dataDir, 'live.jpg');
    writeFileSync(file, res.body as Buffer);
    expect((await ffprobeJson(file)).streams[0]).toMatchObject({
      codec_name: 'mjpeg',
      width: 320,
      height: 240,
    });
  });

  it('POST /test reports an unreachable camera as reachable:false with a masked error', async () => {
    await cam.pause();
    try {
      const res = await t.http().post('/api/v1/cameras/test_cam/test').expect(200);
      expect(res.body.reachable).toBe(false);
      expect(typeof res.body.error).toBe('string');
      expect(JSON.stringify(res.body)).not.toContain('s3cret');
    } finally {
      await cam.resume();
    }
  });

  it('POST /test on a camera without any URL is a 400 that says what to set', async () => {
    const res = await t.http().post('/api/v1/cameras/clamped/test').expect(400);
    expect(res.body.code).toBe('NO_STREAM_URL');
  });

  it('DELETE removes the camera (204), then 404', async () => {
    await t.http().delete('/api/v1/cameras/clamped').expect(204);
    await t.http().get('/api/v1/cameras/clamped').expect(404);
  });
});
