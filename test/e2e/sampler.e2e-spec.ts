import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { SamplerService } from '../../src/sampler/sampler.service';
import { startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

interface Sampler {
  camera_id: string;
  stream_profile: string;
  state: string;
  fps: number;
  width: number;
}

describe(`frame sampler (${ENGINE})`, () => {
  let t: TestApp;
  let cam: TestCamera;

  beforeAll(async () => {
    cam = await startTestCamera({ width: 640, height: 360, fps: 10 });
    t = await startTestApp({ env: { HELDAR_AI_MAX_TOTAL_FPS: '4' } });
  });

  afterAll(async () => {
    await t?.close();
    await cam?.stop();
  });

  const samplers = async (): Promise<Sampler[]> =>
    (await t.http().get('/api/v1/ai/samplers').expect(200)).body;

  it('samples a real camera at the granted fps and width and serves the latest frame as JPEG', async () => {
    await t
      .http()
      .post('/api/v1/cameras')
      .send({ id: 'sp1', name: 'Sampled', main_stream_url: cam.url, priority: 200 })
      .expect(201);
    const none = await t.http().get('/api/v1/cameras/sp1/frame').expect(404);
    expect(none.body.error).toMatch(/no AI task samples camera `sp1`/);
    await t
      .http()
      .post('/api/v1/cameras/sp1/ai-tasks')
      .send({ task_type: 'motion', fps: 2, width: 320 })
      .expect(201);
    const res = await waitFor(
      async () => {
        const r = await t.http().get('/api/v1/cameras/sp1/frame?profile=sub');
        return r.status === 200 ? r : null;
      },
      30_000,
      'a sampled frame',
    );
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Number(res.headers['x-frame-age-ms'])).toBeGreaterThanOrEqual(0);
    expect(Date.parse(String(res.headers['x-frame-captured-at']))).not.toBeNaN();
    const body = res.body as Buffer;
    expect(body.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff])); // a JPEG
    expect(body.readUInt16BE(body.length - 2)).toBe(0xffd9);
    expect((await samplers()).find((s) => s.camera_id === 'sp1')).toMatchObject({
      stream_profile: 'sub',
      state: 'sampling',
      fps: 2,
      width: 320,
    });
  });

  it('sheds what does not fit the global budget, by priority, and rebalances when tasks change', async () => {
    // Budget 4 fps: sp1 (priority 200) keeps 2 fps; eight unreachable low-priority cameras ask for
    // 1 fps each and share the rest at the 0.5 fps floor, with a reduced width or not at all.
    for (let i = 0; i < 8; i++) {
      await t
        .http()
        .post('/api/v1/cameras')
        .send({ id: `lo${i}`, name: `Low ${i}`, main_stream_url: 'rtsp://127.0.0.1:1/none', priority: 1 })
        .expect(201);
      await t
        .http()
        .post(`/api/v1/cameras/lo${i}/ai-tasks`)
        .send({ task_type: 'motion', fps: 1, width: 640 })
        .expect(201);
    }
    await t.app.get(SamplerService).rebalance();
    const all = await waitFor(
      async () => {
        const list = await samplers();
        return list.length === 9 ? list : null;
      },
      10_000,
      'nine samplers',
    );
    // The budget holds (cost = fps × (granted width / requested width)²), the high-priority camera
    // gets no less than any low one, and demand (2 + 8 fps) over the budget cost someone fps or width.
    const sp1 = all.find((s) => s.camera_id === 'sp1')!;
    const low = all.filter((s) => s.camera_id.startsWith('lo'));
    const cost = (s: Sampler, reqWidth: number) => (s.fps === 0 ? 0 : s.fps * (s.width / reqWidth) ** 2);
    const total = cost(sp1, 320) + low.reduce((sum, s) => sum + cost(s, 640), 0);
    expect(total).toBeLessThanOrEqual(4 + 1e-9);
    expect(sp1.state).not.toBe('budget_exhausted');
    for (const s of low) expect(sp1.fps).toBeGreaterThanOrEqual(s.fps);
    expect(
      [sp1, ...low].some((s) => s.fps < (s.camera_id === 'sp1' ? 2 : 1) || s.state === 'budget_exhausted'),
    ).toBe(true);

    // Dropping the low tasks gives sp1 its sampler back untouched, and the others go.
    for (let i = 0; i < 8; i++) await t.http().delete(`/api/v1/cameras/lo${i}`).expect(204);
    await t.app.get(SamplerService).rebalance();
    const after = await samplers();
    expect(after.map((s) => s.camera_id)).toEqual(['sp1']);
    // Its grant grew back (the budget is free again), so its sampler restarts at the new rate.
    const back = await waitFor(
      async () => {
        const [s] = await samplers();
        return s?.state === 'sampling' ? s : null;
      },
      15_000,
      'sp1 sampling again',
    );
    expect(back).toMatchObject({ fps: 2, width: 320 });
  });

  it('bad profile is a 400', async () => {
    await t.http().get('/api/v1/cameras/sp1/frame?profile=huge').expect(400);
  });
});
