import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, statSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseService } from '../../src/database/database.service';
import { IndexerService } from '../../src/timeline/indexer.service';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const work = mkdtempSync(join(tmpdir(), 'heldar-clip-quota-'));
const SEGMENT = join(work, 'seg.mp4');
execFileSync('ffmpeg', [
  '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:duration=2',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-g', '10', '-pix_fmt', 'yuv420p', '-y', SEGMENT,
]); // prettier-ignore
const S = statSync(SEGMENT).size;
const ADMIN = { username: 'root', password: 'root-password-1' };

const fileName = (ms: number) =>
  new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15) + '.mp4';

describe(`clip quotas (${ENGINE})`, () => {
  let t: TestApp;
  const auth: Record<string, Record<string, string>> = {};
  let segs: Array<{ start_time: string; end_time: string }> = [];

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_RECORDER_ENABLED: 'false',
        HELDAR_INDEXER_INTERVAL_S: '3600',
        HELDAR_CLIPS_MAX_BYTES_PER_PRINCIPAL: String(Math.round(1.5 * S)),
        HELDAR_CLIPS_MAX_BYTES: String(Math.round(2.5 * S)),
      },
    });
    const login = async (username: string, password: string) => ({
      Authorization: `Bearer ${(await t.http().post('/api/v1/auth/login').send({ username, password }).expect(200)).body.token}`,
    });
    auth.admin = await login(ADMIN.username, ADMIN.password);
    for (const u of ['va', 'vb', 'vc']) {
      await t
        .http()
        .post('/api/v1/users')
        .set(auth.admin)
        .send({ username: u, password: `${u}-password`, role: 'viewer' })
        .expect(201);
      auth[u] = await login(u, `${u}-password`);
    }
    await t.http().post('/api/v1/cameras').set(auth.admin).send({ id: 'cq', name: 'cq' }).expect(201);
    const dir = join(t.store.config.recordingsDirAbs, 'cq');
    mkdirSync(dir, { recursive: true });
    const lastEnd = Math.floor((Date.now() - 600_000) / 1000) * 1000;
    for (let i = 0; i < 4; i++) {
      const end = lastEnd - (3 - i) * 10_000;
      const p = join(dir, fileName(end - 2000));
      copyFileSync(SEGMENT, p);
      utimesSync(p, end / 1000, end / 1000);
    }
    await t.app.get(IndexerService).scanCamera('cq');
    segs = (await t.http().get('/api/v1/cameras/cq/segments?limit=100').set(auth.admin).expect(200)).body;
    expect(segs).toHaveLength(4);
  });

  afterAll(async () => {
    await t?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const clip = (who: string, i: number) =>
    t
      .http()
      .post('/api/v1/cameras/cq/clip')
      .set(auth[who])
      .send({ from: segs[i].start_time, to: segs[i].end_time });
  const clipFiles = () => readdirSync(t.store.config.clipsDirAbs).filter((f) => f.endsWith('.mp4'));

  it('refuses a clip past the caller’s quota or the total with 409 CLIP_QUOTA_EXCEEDED, saying what is used and allowed', async () => {
    await clip('va', 0).expect(201);
    const mine = await clip('va', 1).expect(409);
    expect(mine.body).toEqual({
      code: 'CLIP_QUOTA_EXCEEDED',
      error: expect.stringMatching(
        /^clip quota exceeded: your clips use [\d.]+ [KMG]?i?B of [\d.]+ [KMG]?i?B allowed, and this clip needs about [\d.]+ [KMG]?i?B/,
      ),
    });
    await clip('vb', 1).expect(201);
    // vc has exported nothing, but all clips together would pass HELDAR_CLIPS_MAX_BYTES.
    const all = await clip('vc', 2).expect(409);
    expect(all.body.error).toMatch(
      /^clip quota exceeded: all clips use [\d.]+ [KMG]?i?B of [\d.]+ [KMG]?i?B allowed/,
    );
    expect(clipFiles()).toHaveLength(2); // nothing was written for the refused ones
  });

  it('checks again after the export: a clip larger than estimated is deleted and refused', async () => {
    // Segments whose recorded size is unknown (0) estimate to nothing: only the real size tells.
    await t.app.get(DatabaseService).run((m) => m.query(`UPDATE segments SET size_bytes = 0`));
    const res = await clip('vc', 3).expect(409);
    expect(res.body.code).toBe('CLIP_QUOTA_EXCEEDED');
    expect(res.body.error).toMatch(/all clips use/);
    expect(clipFiles()).toHaveLength(2);
    const listed = (await t.http().get('/api/v1/clips').set(auth.admin).expect(200)).body as unknown[];
    expect(listed).toHaveLength(2);
  });
});
