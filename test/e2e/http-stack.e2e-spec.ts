import { Writable } from 'node:stream';
import { createRootLogger } from '../../src/common/logger';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

// What a client sees of the HTTP stack itself (security headers, request ids, ETags) and what the
// access log writes: the stack is assembled for speed, and none of this may change with it.
describe(`the HTTP stack as a client and the log see it (${ENGINE})`, () => {
  let t: TestApp;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n'))
          if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    t = await startTestApp({ logger: createRootLogger('info', sink) });
  });

  afterAll(async () => {
    await t?.close();
  });

  // Values that vary per response are checked apart.
  const VARYING = ['date', 'etag', 'content-length', 'x-request-id'];
  const SECURITY = {
    'content-security-policy':
      "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self' 'unsafe-inline';script-src-attr 'none';style-src 'self' 'unsafe-inline';media-src 'self' blob:;worker-src 'self' blob:",
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'SAMEORIGIN',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
  };
  const fixed = (headers: Record<string, string>) =>
    Object.fromEntries(Object.entries(headers).filter(([k]) => !VARYING.includes(k)));

  it('every kind of response carries the same security headers, and nothing else changes', async () => {
    const json = { ...SECURITY, 'content-type': 'application/json; charset=utf-8', connection: 'close' };
    const ok = await t.http().get('/api/v1/cameras').set('Connection', 'close').expect(200);
    expect(fixed(ok.headers)).toEqual(json);
    expect(ok.headers.etag).toMatch(/^W\/"[0-9a-f]+-[A-Za-z0-9+/_-]+"$/);
    expect(ok.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    const notFound = await t.http().get('/api/v1/nope').set('Connection', 'close').expect(404);
    expect(fixed(notFound.headers)).toEqual(json);
    const invalid = await t
      .http()
      .post('/api/v1/cameras')
      .set('Connection', 'close')
      .send({ id: 'x', name: 7 })
      .expect(400);
    expect(fixed(invalid.headers)).toEqual(json);
    expect(invalid.body).toEqual({ error: expect.any(String), code: 'VALIDATION_FAILED' });

    const health = await t.http().get('/healthz').set('Connection', 'close').expect(200);
    expect(fixed(health.headers)).toEqual(json);
    const docs = await t.http().get('/docs/').set('Connection', 'close').expect(200);
    expect(fixed(docs.headers)).toEqual({
      ...SECURITY,
      'content-type': 'text/html; charset=utf-8',
      connection: 'close',
    });
  });

  it('a GET answers 304 to its own ETag', async () => {
    const ok = await t.http().get('/api/v1/cameras').expect(200);
    const again = await t.http().get('/api/v1/cameras').set('If-None-Match', ok.headers.etag).expect(304);
    expect(again.headers.etag).toBe(ok.headers.etag);
    expect(again.headers['x-content-type-options']).toBe('nosniff');
  });

  it('the access log: one line per request with the same fields, its request id, the target masked; /healthz not logged', async () => {
    lines.length = 0;
    const first = await t.http().get('/api/v1/events?limit=1&api_key=S3cret').set('X-Request-Id', 'acc-1');
    await t.http().post('/api/v1/cameras').set('X-Request-Id', 'acc-2').send({}).expect(400);
    await t.http().get('/healthz').set('X-Request-Id', 'acc-3').expect(200);
    await t.http().get('/api/v1/nope').set('X-Request-Id', 'acc-4').expect(404);
    await new Promise((r) => setTimeout(r, 100));
    const access = lines.filter((l) => l.req !== undefined);
    expect(access.map((l) => Object.keys(l))).toEqual(
      Array(3).fill(['level', 'time', 'service', 'req', 'res', 'responseTime', 'msg']),
    );
    expect(access).toEqual([
      {
        level: 30,
        time: expect.any(String),
        service: 'heldar',
        req: { id: 'acc-1', method: 'GET', url: '/api/v1/events?limit=1&api_key=***' },
        res: { statusCode: first.status },
        responseTime: expect.any(Number),
        msg: 'request completed',
      },
      expect.objectContaining({
        level: 30,
        req: { id: 'acc-2', method: 'POST', url: '/api/v1/cameras' },
        res: { statusCode: 400 },
      }),
      expect.objectContaining({
        level: 30,
        req: { id: 'acc-4', method: 'GET', url: '/api/v1/nope' },
        res: { statusCode: 404 },
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('S3cret');
  });
});
