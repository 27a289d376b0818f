import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createRootLogger } from '../../src/common/logger';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { rawQuery, startTestApp, type TestApp, waitFor, withClockAhead } from '../support/test-app';
import { ENGINE } from '../support/test-db';

interface Snap {
  id: string;
  camera_id: string;
  taken_at: string;
  size_bytes: number;
  url: string;
}

/** A loopback port nothing listens on (ffmpeg gets "Connection refused" at once). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const isJpeg = (b: Buffer) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

describe(`snapshot schedules (${ENGINE})`, () => {
  let t: TestApp;
  let cam: TestCamera;
  const logLines: string[] = [];
  let root: string;

  const snaps = async (camera: string, query = '') =>
    (await t.http().get(`/api/v1/cameras/${camera}/snapshots${query}`).expect(200)).body as Snap[];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    });
    t = await startTestApp({ logger: createRootLogger('info', sink) });
    root = join(t.store.config.dataDirAbs, 'snapshots');
    cam = await startTestCamera({ width: 160, height: 120, fps: 5 });
    await t
      .http()
      .post('/api/v1/cameras')
      .send({ id: 'yard', name: 'Yard', main_stream_url: cam.url, record_enabled: false })
      .expect(201);
    await t
      .http()
      .post('/api/v1/cameras')
      .send({
        id: 'dead',
        name: 'Dead',
        main_stream_url: `rtsp://127.0.0.1:${await closedPort()}/stream`,
        record_enabled: false,
      })
      .expect(201);
  });

  afterAll(async () => {
    await t?.close();
    await cam?.stop();
  });

  it('refuses bad input with 400s in the envelope, and unknown cameras and schedules with 404', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ interval_seconds: 4 }, /interval_seconds/],
      [{ interval_seconds: 86_401 }, /interval_seconds/],
      [{ interval_seconds: 7.5 }, /interval_seconds/],
      [{ interval_seconds: '60' }, /interval_seconds/],
      [{ enabled: 'yes' }, /enabled/],
      [{ every: 60 }, /every/],
    ];
    for (const [body, msg] of cases) {
      const res = await t.http().post('/api/v1/cameras/yard/snapshot-schedules').send(body).expect(400);
      expect(res.body).toMatchObject({ code: expect.any(String) });
      expect(res.body.error).toMatch(msg);
    }
    await t.http().post('/api/v1/cameras/nope/snapshot-schedules').send({}).expect(404);
    await t.http().get('/api/v1/cameras/nope/snapshot-schedules').expect(404);
    await t.http().get('/api/v1/cameras/nope/snapshots').expect(404);
    const missing = await t.http().patch('/api/v1/snapshot-schedules/ssch_nope').send({ enabled: false });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('SNAPSHOT_SCHEDULE_NOT_FOUND');
    await t.http().delete('/api/v1/snapshot-schedules/ssch_nope').expect(404);
    for (const q of [
      '?limit=0',
      '?limit=1001',
      '?from=yesterday',
      '?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
    ]) {
      const res = await t.http().get(`/api/v1/cameras/yard/snapshots${q}`).expect(400);
      expect(res.body).toMatchObject({ error: expect.any(String), code: expect.any(String) });
    }
    expect((await t.http().get('/api/v1/cameras/yard/snapshot-schedules').expect(200)).body).toEqual([]);
  });

  it('CRUD: schedules are listed, changed and removed, each change audited', async () => {
    const created = await t
      .http()
      .post('/api/v1/cameras/yard/snapshot-schedules')
      .send({ enabled: false })
      .expect(201);
    expect(created.body).toMatchObject({ camera_id: 'yard', interval_seconds: 300, enabled: false });
    const id = created.body.id as string;
    const patched = await t
      .http()
      .patch(`/api/v1/snapshot-schedules/${id}`)
      .send({ interval_seconds: 3600 })
      .expect(200);
    expect(patched.body).toMatchObject({ id, interval_seconds: 3600, enabled: false });
    await t.http().patch(`/api/v1/snapshot-schedules/${id}`).send({ interval_seconds: 1 }).expect(400);
    expect((await t.http().get('/api/v1/cameras/yard/snapshot-schedules').expect(200)).body).toEqual([
      expect.objectContaining({ id, interval_seconds: 3600, enabled: false }),
    ]);
    await t.http().delete(`/api/v1/snapshot-schedules/${id}`).expect(204);
    expect((await t.http().get('/api/v1/cameras/yard/snapshot-schedules').expect(200)).body).toEqual([]);
    for (const action of [
      'create_snapshot_schedule',
      'update_snapshot_schedule',
      'delete_snapshot_schedule',
    ]) {
      const audit = (await t.http().get(`/api/v1/audit?action=${action}`).expect(200)).body.entries;
      expect(audit).toEqual([expect.objectContaining({ target_id: id })]);
    }
    expect(await snaps('yard')).toEqual([]); // a disabled schedule took nothing
  });

  let scheduleId: string;

  it('a 5 s schedule on the RTSP test camera stores JPEG files and rows, listed with URLs that serve them', async () => {
    const sch = await t
      .http()
      .post('/api/v1/cameras/yard/snapshot-schedules')
      .send({ interval_seconds: 5 })
      .expect(201);
    scheduleId = sch.body.id;
    const list = await waitFor(
      async () => {
        const l = await snaps('yard');
        return l.length >= 3 ? l : null;
      },
      40_000,
      'three snapshots from a 5 s schedule',
    );
    // Newest first, about 5 s apart.
    const times = list.map((s) => Date.parse(s.taken_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(times[0] - times[1]).toBeGreaterThanOrEqual(4_000);

    const rows = await rawQuery(
      t,
      "SELECT id, camera_id, taken_at, path, size_bytes FROM snapshots WHERE camera_id = 'yard'",
    );
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) {
      expect(String(r.path)).toMatch(/^yard\/\d{4}-\d{2}-\d{2}\/\d{8}_\d{6}(-\d+)?\.jpg$/);
      const day = String(r.taken_at).slice(0, 10);
      expect(String(r.path).startsWith(`yard/${day}/${day.replace(/-/g, '')}_`)).toBe(true);
      const bytes = readFileSync(join(root, String(r.path)));
      expect(isJpeg(bytes)).toBe(true);
      expect(bytes.length).toBe(Number(r.size_bytes));
    }
    // The URL serves the JPEG.
    const first = list[0];
    expect(first.url).toMatch(/^\/media\/snapshots\/yard\/\d{4}-\d{2}-\d{2}\/\d{8}_\d{6}(-\d+)?\.jpg$/);
    const res = await t
      .http()
      .get(first.url)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(res.headers['content-type']).toMatch(/image\/jpeg/);
    expect(isJpeg(res.body as Buffer)).toBe(true);
    expect((res.body as Buffer).length).toBe(first.size_bytes);
    // Traversal through the snapshot tree is refused.
    expect((await t.http().get('/media/snapshots/yard/%2e%2e/x.jpg')).status).toBe(400);
    expect((await t.http().get('/media/snapshots/yard/2026-01-01/nothing.jpg')).status).toBe(404);

    // Filters: limit, and [from, to).
    expect(await snaps('yard', '?limit=1')).toEqual([list[0]]);
    const mid = list[1].taken_at;
    expect((await snaps('yard', `?from=${encodeURIComponent(mid)}`)).map((s) => s.id)).toEqual(
      list.filter((s) => s.taken_at >= mid).map((s) => s.id),
    );
    expect((await snaps('yard', `?to=${encodeURIComponent(mid)}`)).map((s) => s.id)).toEqual(
      list.filter((s) => s.taken_at < mid).map((s) => s.id),
    );
    expect(await snaps('yard', '?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')).toEqual([]);
  });

  it('a camera that fails is logged and retried at its next interval, never stopping the others', async () => {
    const before = (await snaps('yard')).length;
    await t.http().post('/api/v1/cameras/dead/snapshot-schedules').send({ interval_seconds: 5 }).expect(201);
    const failures = () => logLines.filter((l) => l.includes('snapshot of camera dead failed')).length;
    await waitFor(async () => failures() >= 2, 30_000, 'two logged failures (a retry at the next interval)');
    expect(await snaps('dead')).toEqual([]);
    // The working camera keeps its schedule meanwhile.
    await waitFor(
      async () => (await snaps('yard')).length > before,
      20_000,
      'the next snapshot of the working camera',
    );
    await t.http().get('/api/v1/health/cameras').expect(200);
  });

  it('snapshot bytes count in retention’s usage and forecast; the sweep prunes rows and files by age', async () => {
    // Stop taking new ones, so every snapshot is older than the moved clock's cutoff.
    await t.http().patch(`/api/v1/snapshot-schedules/${scheduleId}`).send({ enabled: false }).expect(200);
    for (const s of (await t.http().get('/api/v1/cameras/dead/snapshot-schedules').expect(200))
      .body as Array<{ id: string }>)
      await t.http().delete(`/api/v1/snapshot-schedules/${s.id}`).expect(204);
    await new Promise((r) => setTimeout(r, 1500)); // a grab in flight lands
    const rows = await rawQuery(t, "SELECT path, size_bytes FROM snapshots WHERE camera_id = 'yard'");
    const total = rows.reduce((s, r) => s + Number(r.size_bytes), 0);
    const retention = (await t.http().get('/api/v1/system/retention').expect(200)).body;
    expect(retention.snapshot_retention_hours).toBe(168);
    expect(retention.usage.snapshots_bytes).toBe(total);
    const yard = retention.forecast.cameras.find((c: { camera_id: string }) => c.camera_id === 'yard');
    // Steady state: a day of snapshots at the last 24 h's rate × 7 days, at least what is stored.
    expect(yard.snapshots_bytes).toBe(total * 7);

    // Not yet old enough: the sweep keeps them.
    await withClockAhead(t, 167 * 3_600_000, async () => {
      const report = (await t.http().post('/api/v1/system/retention/sweep').expect(200)).body;
      expect(report.rows.snapshots).toBeUndefined();
    });
    expect((await snaps('yard')).length).toBe(rows.length);

    const report = await withClockAhead(
      t,
      169 * 3_600_000,
      async () => (await t.http().post('/api/v1/system/retention/sweep').expect(200)).body,
    );
    expect(report.rows.snapshots).toBe(rows.length);
    expect(await snaps('yard')).toEqual([]);
    expect(await rawQuery(t, 'SELECT id FROM snapshots')).toEqual([]);
    for (const r of rows) expect(existsSync(join(root, String(r.path)))).toBe(false);
    // The emptied day folders are gone too.
    expect(existsSync(join(root, 'yard')) ? readdirSync(join(root, 'yard')) : []).toEqual([]);
    expect((await t.http().get('/api/v1/system/retention').expect(200)).body.usage.snapshots_bytes).toBe(0);
  });
});
