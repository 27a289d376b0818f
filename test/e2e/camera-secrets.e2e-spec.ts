import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { createRootLogger } from '../../src/common/logger';
import { startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/** Characters a URL must encode, so the raw and the percent-encoded forms both have to be hidden. */
const PASSWORD = 'Sup3r-s3cret:@/?&#';
const LEAK = 'Sup3r-s3cret';
const INLINE = 'Inl1ne-pw';
const TEMPLATE = 'rtsp://{user}:{pass}@{host}:{port}/live/{user}/{pass}?user={user}&password={pass}';

/** A loopback port nothing listens on (ffmpeg gets "Connection refused" at once). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

describe(`no camera credential leaves the kernel (${ENGINE})`, () => {
  let t: TestApp;
  let port: number;
  const logLines: string[] = [];

  beforeAll(async () => {
    port = await closedPort();
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    });
    t = await startTestApp({
      env: { HELDAR_RECORDER_ENABLED: 'true', HELDAR_HEALTH_INTERVAL_S: '1' },
      logger: createRootLogger('trace', sink),
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  const expectNoLeak = (what: string, value: unknown) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (text.includes(LEAK) || text.includes(INLINE)) throw new Error(`${what} leaks a password: ${text}`);
  };

  it('a template with {user} and {pass} in the userinfo, the path and the query', async () => {
    const created = await t
      .http()
      .post('/api/v1/cameras')
      .send({
        id: 'tpl_cam',
        name: 'Template camera',
        address: '127.0.0.1',
        rtsp_port: port,
        username: 'admin',
        password: PASSWORD,
        url_template: TEMPLATE,
      })
      .expect(201);
    expect(created.body).toMatchObject({
      record_url_masked: `rtsp://***@127.0.0.1:${port}/live/admin/***?user=***&password=***`,
      url_template: TEMPLATE,
      has_password: true,
    });
    expectNoLeak('POST /cameras', created.body);
    expectNoLeak('GET /cameras/{id}', (await t.http().get('/api/v1/cameras/tpl_cam').expect(200)).body);
    expectNoLeak('GET /cameras', (await t.http().get('/api/v1/cameras').expect(200)).body);

    for (const method of ['post', 'get'] as const) {
      const res = await t.http()[method]('/api/v1/cameras/tpl_cam/test').expect(200);
      expect(res.body).toMatchObject({
        reachable: false,
        url: `rtsp://***@127.0.0.1:${port}/live/admin/***?user=***&password=***`,
      });
      expect(res.body.error).toMatch(/Connection refused/);
      expectNoLeak(`${method.toUpperCase()} /cameras/{id}/test`, res.body);
    }

    const snap = await t.http().get('/api/v1/cameras/tpl_cam/snapshot').expect(502);
    expect(snap.body.code).toBe('CAMERA_UNREACHABLE');
    expectNoLeak('GET /cameras/{id}/snapshot', snap.body);
  });

  it('an explicit URL with an inline password in the userinfo, the path and the query', async () => {
    const url = `rtsp://viewer:${INLINE}@127.0.0.1:${port}/x/${INLINE}?pwd=${INLINE}&channel=2`;
    const created = await t
      .http()
      .post('/api/v1/cameras')
      .send({ id: 'url_cam', name: 'URL camera', main_stream_url: url })
      .expect(201);
    expect(created.body.main_stream_url).toBe(`rtsp://***@127.0.0.1:${port}/x/***?pwd=***&channel=***`);
    expectNoLeak('POST /cameras', created.body);
    const res = await t.http().post('/api/v1/cameras/url_cam/test').expect(200);
    expect(res.body.error).toMatch(/Connection refused/);
    expectNoLeak('POST /cameras/{id}/test', res.body);
  });

  it('the access log never holds a viewer token or a key of a request target', async () => {
    await t.http().get('/live/cam_tpl_cam/index.m3u8?token=V13wer-T0ken');
    await t.http().get('/api/v1/events?limit=1&api_key=Ap1-K3y&sig=S1g-value');
    const log = logLines.join('');
    expect(log).toContain('/live/cam_tpl_cam/index.m3u8?token=***');
    expect(log).toContain('/api/v1/events?limit=1&api_key=***&sig=***');
    for (const secret of ['V13wer-T0ken', 'Ap1-K3y', 'S1g-value']) expect(log).not.toContain(secret);
  });

  it('the recorder: last_error, camera_offline events and the log', async () => {
    for (const id of ['tpl_cam', 'url_cam']) {
      const events = await waitFor(
        async () => {
          const res = await t
            .http()
            .get(`/api/v1/events?camera_id=${id}&event_type=camera_offline`)
            .expect(200);
          return (res.body as unknown[]).length > 0 && (res.body as Array<{ payload: { detail: string } }>);
        },
        20_000,
        `camera_offline of ${id}`,
      );
      expect(events[0].payload.detail).toMatch(/Connection refused/);
      expectNoLeak('GET /events', events);
      const health = await t.http().get(`/api/v1/cameras/${id}/health`).expect(200);
      expect(health.body.last_error).toMatch(/Connection refused/);
      expectNoLeak('GET /cameras/{id}/health', health.body);
    }
    expectNoLeak('GET /health/cameras', (await t.http().get('/api/v1/health/cameras').expect(200)).body);
    expectNoLeak('GET /events', (await t.http().get('/api/v1/events?limit=500').expect(200)).body);

    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('')).toContain('/api/v1/cameras/tpl_cam/test'); // the access log was captured
    expectNoLeak('the kernel log', logLines.join(''));
  });
});
