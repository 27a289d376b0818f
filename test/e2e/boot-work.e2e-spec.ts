import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SwaggerModule } from '@nestjs/swagger';
import { buildOpenApi } from '../../src/app.factory';
import { CamerasRepository } from '../../src/cameras/cameras.repository';
import { RecorderService } from '../../src/recorder/recorder.service';
import { IndexerService } from '../../src/timeline/indexer.service';
import { rawQuery, startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/** What boot does before /readyz answers, and what it leaves for later. */
describe(`work at boot (${ENGINE})`, () => {
  afterEach(() => jest.restoreAllMocks());

  it('the OpenAPI document is built on its first request, once, and served whole at /openapi.json, /docs and /docs-yaml', async () => {
    const build = jest.spyOn(SwaggerModule, 'createDocument');
    const t = await startTestApp();
    try {
      expect(build).not.toHaveBeenCalled(); // not at boot
      await t.http().get('/readyz').expect(200);
      expect(build).not.toHaveBeenCalled();

      const [a, b] = await Promise.all([t.http().get('/openapi.json'), t.http().get('/openapi.json')]);
      expect(a.status).toBe(200);
      expect(a.headers['content-type']).toMatch(/application\/json/);
      expect(build).toHaveBeenCalledTimes(1);
      expect(b.body).toEqual(a.body);

      // The same document the OpenAPI script writes (openapi.json in the repository).
      const expected = JSON.parse(JSON.stringify(buildOpenApi(t.app))) as {
        paths: Record<string, unknown>;
        components: { schemas: Record<string, unknown> };
      };
      expect(a.body).toEqual(expected);
      expect(Object.keys(a.body.paths).length).toBeGreaterThan(50);
      expect(Object.keys(a.body.paths)).toEqual(
        expect.arrayContaining(['/api/v1/cameras', '/api/v1/events', '/readyz', '/api/v1/system']),
      );
      build.mockClear();

      // Swagger UI embeds the document it built once.
      const ui = await t.http().get('/docs/').expect(200);
      expect(ui.text).toContain('swagger-ui');
      const init = await t.http().get('/docs/swagger-ui-init.js').expect(200);
      expect(init.text).toContain('"/api/v1/cameras"');
      expect(init.text).toContain(`"title": "Heldar"`);
      const yaml = await t.http().get('/docs-yaml').expect(200);
      expect(yaml.text).toContain('/api/v1/cameras:');
      expect(build).not.toHaveBeenCalled();
    } finally {
      await t.close();
    }
  });

  it('with recording off, a restart reads the cameras once and leaves their disabled status rows as they were', async () => {
    const env = { HELDAR_RECORDER_ENABLED: 'false' };
    let t: TestApp = await startTestApp({ env });
    const store = t.store;
    try {
      for (const name of ['Gate', 'Yard', 'Dock'])
        await t.http().post('/api/v1/cameras').send({ name }).expect(201);
      await t.app.get(RecorderService).settled();
      const before = await rawQuery(
        t,
        'SELECT camera_id, state, updated_at FROM camera_status ORDER BY camera_id',
      );
      expect(before.map((r) => [r.camera_id, r.state])).toEqual([
        ['dock', 'disabled'],
        ['gate', 'disabled'],
        ['yard', 'disabled'],
      ]);
      await t.stopServer();
      await new Promise((r) => setTimeout(r, 20)); // any rewrite would carry a later updated_at

      const readOne = jest.spyOn(CamerasRepository.prototype, 'get');
      t = await startTestApp({ env, store });
      await t.app.get(RecorderService).settled();
      await t.app.get(IndexerService).scanAll(); // a reconciliation pass, as at boot and hourly
      expect(readOne).not.toHaveBeenCalled(); // one read of every camera, not one per camera
      const after = await rawQuery(
        t,
        'SELECT camera_id, state, updated_at FROM camera_status ORDER BY camera_id',
      );
      expect(after).toEqual(before);
      expect((await t.http().get('/api/v1/cameras/gate/health').expect(200)).body.state).toBe('disabled');
    } finally {
      await t.close();
    }
  });

  it('boot records every built-in module as running in one write', async () => {
    const t = await startTestApp();
    try {
      const rows = await rawQuery(
        t,
        "SELECT id, state, kind, updated_at FROM module_records WHERE kind = 'builtin'",
      );
      expect(rows.length).toBeGreaterThan(10);
      expect(rows.every((r) => r.state === 'running')).toBe(true);
      expect(new Set(rows.map((r) => r.updated_at)).size).toBe(1); // one statement, one timestamp
      const listed = await t.http().get('/api/v1/system/modules').expect(200);
      expect(listed.body).toEqual(
        expect.arrayContaining([expect.objectContaining({ id: rows[0].id, state: 'running' })]),
      );
    } finally {
      await t.close();
    }
  });

  it('the built kernel does not load the sidecar proxy library until a sidecar is proxied', () => {
    const factory = join(__dirname, '..', '..', 'dist', 'src', 'app.factory.js');
    if (!existsSync(factory)) throw new Error(`${factory} is missing: run \`npm run build\` first`);
    const loaded = execFileSync(process.execPath, [
      '-e',
      `require(${JSON.stringify(factory)}); console.log(JSON.stringify(Object.keys(require.cache)))`,
    ]).toString();
    const files = JSON.parse(loaded) as string[];
    expect(files.some((f) => f.includes('/@nestjs/core/'))).toBe(true); // the app graph did load
    expect(files.filter((f) => f.includes('/http-proxy-middleware/'))).toEqual([]);
  });
});
