import { connect } from 'node:net';
import { PrincipalResolver } from '../../src/auth/principal-resolver';
import type { Principal } from '../../src/auth/principal';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const ADMIN = { username: 'root', password: 'root-password-1' };
/** The kernel's deadline for an upgrade's authorisation is min(10 s, the header timeout: this). */
const REQUEST_TIMEOUT_S = 3;

/** Send raw bytes; resolve with what came back and whether the server closed within `waitMs`. */
function rawExchange(
  baseUrl: string,
  bytes: string | Buffer,
  waitMs: number,
): Promise<{ data: string; closed: boolean; ms: number }> {
  const { port } = new URL(baseUrl);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = (closed: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(chunks).toString('latin1'), closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => done(false), waitMs);
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('close', () => done(true));
    sock.on('error', reject);
    sock.write(bytes);
  });
}

function upgradeRequest(path: string, extra = ''): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`
  );
}

function envelope(data: string): { error: string; code: string } {
  return JSON.parse(data.slice(data.indexOf('\r\n\r\n') + 4)) as { error: string; code: string };
}

describe(`origin, cookies and upgrades (${ENGINE})`, () => {
  let t: TestApp;
  let token: string;
  let own: string;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_LOGIN_RATE_LIMIT_PER_MIN: '0',
        HELDAR_CORS_ORIGINS: 'https://console.example',
        HELDAR_HTTP_REQUEST_TIMEOUT_S: String(REQUEST_TIMEOUT_S),
      },
    });
    token = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token as string;
    own = t.baseUrl;
  });

  afterAll(async () => {
    await t?.close();
  });

  describe('a malformed heldar_session cookie is a 401, never a 500', () => {
    it.each([
      ['a lone %', 'heldar_session=%'],
      ['a truncated escape', 'heldar_session=%E0%A4%A'],
      ['an invalid escape among other cookies', 'a=1; heldar_session=%zz%; b=2'],
      ['a very long value', `heldar_session=${'%41'.repeat(2000)}%`],
      ['a repeated name, the first malformed', `heldar_session=%; heldar_session=vos_${'0'.repeat(64)}`],
      ['an empty value', 'heldar_session='],
    ])('%s', async (_why, cookie) => {
      const res = await t.http().get('/api/v1/auth/me').set('Cookie', cookie).expect(401);
      expect(res.body.code).toMatch(/^(UNAUTHORIZED|INVALID_CREDENTIALS)$/);
    });

    it('non-ASCII bytes in the cookie (sent raw)', async () => {
      const head = Buffer.concat([
        Buffer.from(
          'GET /api/v1/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: heldar_session=',
        ),
        Buffer.from('vos_é%€😀', 'utf8'),
        Buffer.from('\r\n\r\n'),
      ]);
      const { data } = await rawExchange(t.baseUrl, head, 5000);
      expect(data).toMatch(/^HTTP\/1\.1 401 /);
      expect(envelope(data).code).toBe('INVALID_CREDENTIALS');
    });

    it('a valid cookie first, a malformed one repeated after it: the valid one authenticates', async () => {
      await t
        .http()
        .get('/api/v1/auth/me')
        .set('Cookie', `heldar_session=${token}; heldar_session=%`)
        .expect(200);
    });
  });

  describe('CSRF: state-changing requests carrying the session cookie', () => {
    const mint = (name: string) => t.http().post('/api/v1/api-keys').send({ name, role: 'viewer' });

    it('from a foreign or sibling origin: 403 ORIGIN_REFUSED, and nothing is done', async () => {
      const sibling = own.replace(/:\d+$/, ':1'); // same site (host), another port
      for (const origin of ['https://evil.example', sibling, 'null']) {
        const res = await mint(`csrf ${origin}`)
          .set('Cookie', `heldar_session=${token}`)
          .set('Origin', origin)
          .expect(403);
        expect(res.body).toEqual({ error: expect.stringMatching(/cross-origin/), code: 'ORIGIN_REFUSED' });
      }
      // Without Origin the browser's Referer is judged, and Sec-Fetch-Site when the origin is opaque.
      await mint('csrf referer')
        .set('Cookie', `heldar_session=${token}`)
        .set('Referer', 'https://evil.example/page')
        .expect(403);
      await mint('csrf fetch metadata')
        .set('Cookie', `heldar_session=${token}`)
        .set('Sec-Fetch-Site', 'same-site')
        .expect(403);
      // Logout is a public route: a foreign page cannot end the session either.
      await t
        .http()
        .post('/api/v1/auth/logout')
        .set('Cookie', `heldar_session=${token}`)
        .set('Origin', 'https://evil.example')
        .expect(403);
      await t.http().get('/api/v1/auth/me').set('Cookie', `heldar_session=${token}`).expect(200);
      const names = (
        await t.http().get('/api/v1/api-keys').set('Authorization', `Bearer ${token}`).expect(200)
      ).body.map((k: { name: string }) => k.name);
      expect(names.filter((n: string) => n.startsWith('csrf'))).toEqual([]);
    });

    it('from the own origin, a listed origin, or no browser page at all: allowed', async () => {
      await mint('same origin').set('Cookie', `heldar_session=${token}`).set('Origin', own).expect(201);
      await mint('same origin, opaque but same-origin fetch metadata')
        .set('Cookie', `heldar_session=${token}`)
        .set('Origin', 'null')
        .set('Sec-Fetch-Site', 'same-origin')
        .expect(201);
      await mint('listed')
        .set('Cookie', `heldar_session=${token}`)
        .set('Origin', 'https://console.example')
        .expect(201);
      await mint('curl').set('Cookie', `heldar_session=${token}`).expect(201);
      // Reading is not judged (the browser's CORS keeps a foreign page from seeing the answer).
      await t
        .http()
        .get('/api/v1/auth/me')
        .set('Cookie', `heldar_session=${token}`)
        .set('Origin', 'https://evil.example')
        .expect(200);
    });

    it('Bearer and X-API-Key carry no ambient credential: a foreign Origin does not matter', async () => {
      const key = (await mint('key').set('Authorization', `Bearer ${token}`).expect(201)).body.key as string;
      await mint('bearer, foreign')
        .set('Authorization', `Bearer ${token}`)
        .set('Cookie', `heldar_session=${token}`)
        .set('Origin', 'https://evil.example')
        .expect(201);
      await t
        .http()
        .post('/api/v1/auth/logout')
        .set('X-API-Key', key)
        .set('Origin', 'https://evil.example')
        .expect(204);
    });
  });

  describe('protocol upgrades', () => {
    it('40 anonymous upgrades to /healthz are each answered and closed within seconds', async () => {
      const results = await Promise.all(
        Array.from({ length: 40 }, () => rawExchange(t.baseUrl, upgradeRequest('/healthz'), 5000)),
      );
      for (const r of results) {
        expect(r.closed).toBe(true);
        expect(r.data).toMatch(/^HTTP\/1\.1 400 /);
        expect(envelope(r.data).code).toBe('UPGRADE_REFUSED');
      }
      // The server still answers.
      await t.http().get('/healthz').expect(200);
    });

    it('an unauthenticated /m/ upgrade is a 401 in the envelope, and closed', async () => {
      const r = await rawExchange(t.baseUrl, upgradeRequest('/m/anything/ws'), 5000);
      expect(r.closed).toBe(true);
      expect(r.data).toMatch(/^HTTP\/1\.1 401 /);
      expect(envelope(r.data).code).toBe('UNAUTHORIZED');
    });

    it('an /m/ upgrade whose authorisation does not finish is answered 503 and closed at the deadline', async () => {
      const resolver = t.app.get(PrincipalResolver);
      const stuck = jest
        .spyOn(resolver, 'resolve')
        .mockImplementationOnce(() => new Promise<Principal>(() => undefined));
      try {
        const r = await rawExchange(
          t.baseUrl,
          upgradeRequest('/m/anything/ws', `Authorization: Bearer ${token}\r\n`),
          REQUEST_TIMEOUT_S * 1000 + 4000,
        );
        expect(r.closed).toBe(true);
        expect(r.data).toMatch(/^HTTP\/1\.1 503 /);
        expect(envelope(r.data).code).toBe('UPGRADE_TIMEOUT');
        expect(r.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_S * 1000 - 200);
      } finally {
        stuck.mockRestore();
      }
    });

    it('a cookie-authenticated /m/ upgrade from a foreign origin is refused 403', async () => {
      const r = await rawExchange(
        t.baseUrl,
        upgradeRequest(
          '/m/anything/ws',
          `Cookie: heldar_session=${token}\r\nOrigin: https://evil.example\r\n`,
        ),
        5000,
      );
      expect(r.closed).toBe(true);
      expect(r.data).toMatch(/^HTTP\/1\.1 403 /);
      expect(envelope(r.data).code).toBe('ORIGIN_REFUSED');
    });
  });
});
