import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { SamplerService } from '../../src/sampler/sampler.service';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

describe(`platform over HTTP (${ENGINE})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('/healthz and /readyz answer without credentials', async () => {
    expect((await t.http().get('/healthz').expect(200)).body).toEqual({ status: 'ok' });
    expect((await t.http().get('/readyz').expect(200)).body).toEqual({ ready: true });
  });

  it('every response carries a request id; a sane incoming one is kept', async () => {
    const res = await t.http().get('/healthz').expect(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.http().get('/healthz').set('X-Request-Id', 'abc-123').expect(200);
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await t.http().get('/healthz').set('X-Request-Id', 'bad id <script>').expect(200);
    expect(replaced.headers['x-request-id']).not.toContain('script');
  });

  it('helmet headers are set; no CORS headers by default (same-origin only)', async () => {
    const res = await t.http().get('/api/v1/cameras').set('Origin', 'http://evil.example').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('errors use one envelope: unknown route, bad JSON, oversized body, validation', async () => {
    const notFound = await t.http().get('/api/v1/nope').expect(404);
    expect(notFound.body).toEqual({ error: 'Cannot GET /api/v1/nope', code: 'NOT_FOUND' });

    const badJson = await t
      .http()
      .post('/api/v1/cameras')
      .set('Content-Type', 'application/json')
      .send('{bad')
      .expect(400);
    expect(badJson.body.code).toBe('INVALID_JSON');
    expect(badJson.body.error).toMatch(/^request body is not valid JSON/);

    // Nested thousands deep it would overflow the validator's stack: refused before parsing.
    const deep = await t
      .http()
      .post('/api/v1/cameras')
      .set('Content-Type', 'application/json')
      .send(`{"name":"x","model":${'['.repeat(5000)}${']'.repeat(5000)}}`)
      .expect(400);
    expect(deep.body).toEqual({ error: 'request body nests deeper than 64 levels', code: 'JSON_TOO_DEEP' });

    const huge = JSON.stringify({ name: 'x', model: 'y'.repeat(1024 * 1024 + 10) });
    const tooLarge = await t
      .http()
      .post('/api/v1/cameras')
      .set('Content-Type', 'application/json')
      .send(huge)
      .expect(413);
    expect(tooLarge.body).toEqual({
      error: 'request body exceeds the 1024 KiB limit',
      code: 'PAYLOAD_TOO_LARGE',
    });

    const invalid = await t.http().get('/api/v1/events?limit=abc').expect(400);
    expect(invalid.body.code).toBe('VALIDATION_FAILED');
    expect(invalid.body.error).toMatch(/limit/);

    const arrayBody = await t
      .http()
      .post('/api/v1/cameras')
      .send([{ name: 'x' }]);
    expect(arrayBody.status).toBe(400);
  });

  it('serves Swagger UI at /docs and the spec at /openapi.json', async () => {
    const ui = await t.http().get('/docs/').expect(200);
    expect(ui.text).toContain('swagger-ui');
    const spec = await t.http().get('/openapi.json').expect(200);
    expect(spec.body.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/cameras', '/api/v1/events', '/readyz']),
    );
  });

  it('events: list with filters and the type catalogue', async () => {
    await t.http().post('/api/v1/cameras').send({ name: 'Cam A' }).expect(201);
    await t.http().post('/api/v1/cameras').send({ name: 'Cam B' }).expect(201);
    const all = await t.http().get('/api/v1/events').expect(200);
    expect(all.body.map((e: { camera_id: string }) => e.camera_id)).toEqual(['cam_b', 'cam_a']); // newest first
    const onlyA = await t.http().get('/api/v1/events?camera_id=cam_a').expect(200);
    expect(onlyA.body).toHaveLength(1);
    const after = await t.http().get(`/api/v1/events?since_seq=${onlyA.body[0].seq}`).expect(200);
    expect(after.body.map((e: { camera_id: string }) => e.camera_id)).toEqual(['cam_b']);
    const warn = await t.http().get('/api/v1/events?severity=warning').expect(200);
    expect(warn.body).toEqual([]);
    const types = await t.http().get('/api/v1/events/types').expect(200);
    expect(types.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ event_type: 'camera_offline', source: 'kernel' })]),
    );
  });

  it('writes the module records of the built-in modules', async () => {
    const res = await t.http().get('/api/v1/system/modules').expect(200);
    const byId = Object.fromEntries(res.body.map((m: { id: string; state: string }) => [m.id, m.state]));
    expect(byId).toMatchObject({
      cameras: 'running',
      events: 'running',
      settings: 'running',
      audit: 'running',
    });
  });

  it('generates <data>/secret.key with mode 0600', () => {
    expect(statSync(join(t.store.dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('/readyz answers 503 {ready:false, reason:"database"} when the store is down', async () => {
    await t.app.get(DataSource).destroy();
    const res = await t.http().get('/readyz').expect(503);
    expect(res.body).toEqual({ ready: false, reason: 'database' });
    expect((await t.http().get('/healthz').expect(200)).body).toEqual({ status: 'ok' });

    // A sampler rebalance that failed on the lost store is logged; it does not fail the shutdown.
    const sampler = t.app.get(SamplerService);
    await expect(sampler.rebalance()).rejects.toThrow();
    await expect(sampler.beforeApplicationShutdown()).resolves.toBeUndefined();
  });
});

describe('CORS allowlist', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { HELDAR_CORS_ORIGINS: 'http://console.example' } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers listed origins only', async () => {
    const ok = await t.http().get('/api/v1/cameras').set('Origin', 'http://console.example').expect(200);
    expect(ok.headers['access-control-allow-origin']).toBe('http://console.example');
    const other = await t.http().get('/api/v1/cameras').set('Origin', 'http://evil.example').expect(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
