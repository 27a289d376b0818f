import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { EventsService } from '../../src/events/events.service';
import { SidecarsService } from '../../src/sidecars/sidecars.service';
import { rawQuery, startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const ADMIN = { username: 'root', password: 'root-password-1' };

/** A real sidecar on loopback: health, signed event deliveries, an echo endpoint and a WebSocket echo. */
class Sidecar {
  readonly deliveries: Array<{ headers: Record<string, string>; body: string }> = [];
  healthy = true;
  private server!: Server;
  private sockets = new Set<Socket>();
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (req.url === '/heldar/health') {
          res.writeHead(this.healthy ? 200 : 503).end();
        } else if (req.url === '/heldar/events') {
          this.deliveries.push({ headers: req.headers as Record<string, string>, body });
          res.writeHead(204).end();
        } else {
          res.writeHead(200, {
            'content-type': 'application/json',
            'set-cookie': 'sidecar=1; Path=/',
            'strict-transport-security': 'max-age=63072000',
            'clear-site-data': '"*"',
            'access-control-allow-origin': '*',
            // What a hostile page would send to run on the kernel's origin.
            'content-security-policy': "default-src * 'unsafe-inline' 'unsafe-eval'",
            'service-worker-allowed': '/',
            'cross-origin-opener-policy': 'unsafe-none',
            'cross-origin-resource-policy': 'cross-origin',
            'x-content-type-options': 'sniff',
            nel: '{"report_to":"sidecar","max_age":31536000,"include_subdomains":true}',
            'report-to': '{"group":"sidecar","max_age":31536000,"endpoints":[{"url":"http://127.0.0.1/r"}]}',
            'x-sidecar': 'yes',
          });
          res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
        }
      });
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      const accept = createHash('sha1')
        .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest('base64');
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-seen-user: ${String(req.headers['x-heldar-user'])}\r\nx-seen-auth: ${String(req.headers.authorization ?? 'none')}\r\nx-seen-path: ${req.url}\r\nx-seen-underscore: ${String(req.headers.x_heldar_user ?? 'none')}\r\nx-seen-xff: ${String(req.headers['x-forwarded-for'])}\r\n\r\n`,
      );
      socket.on('data', (d: Buffer) => socket.write(d)); // echo the bytes
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

/** A raw WebSocket handshake through the kernel; resolves with the 101 head and an echo of `payload`. */
function wsRoundTrip(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  payload: string,
): Promise<{ head: string; echo: string }> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1');
    let buf = '';
    let head: string | null = null;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no websocket answer; got: ${buf}`));
    }, 5000);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (head === null && buf.includes('\r\n\r\n')) {
        head = buf.slice(0, buf.indexOf('\r\n\r\n'));
        buf = buf.slice(head.length + 4);
        if (!head.startsWith('HTTP/1.1 101')) {
          clearTimeout(timer);
          sock.destroy();
          resolve({ head, echo: '' });
          return;
        }
        sock.write(payload);
      }
      if (head !== null && buf.length >= payload.length) {
        clearTimeout(timer);
        sock.destroy();
        resolve({ head, echo: buf });
      }
    });
    sock.on('error', reject);
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    sock.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`,
    );
  });
}

describe(`sidecar modules (${ENGINE})`, () => {
  let t: TestApp;
  let car: Sidecar;
  let admin: Record<string, string>;

  beforeAll(async () => {
    car = new Sidecar();
    await car.start();
    t = await startTestApp({
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_MODULE_HEALTH_INTERVAL_S: '3600', // the test drives the probes
      },
    });
    const token = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token as string;
    admin = { Authorization: `Bearer ${token}` };
  });

  afterAll(async () => {
    await t?.close();
    await car?.stop();
  });

  it('registration mints a scoped key, a signed webhook and the /m/{id}/ mount; the list shows natives and sidecars', async () => {
    const reg = await t
      .http()
      .post('/api/v1/modules')
      .set(admin)
      .send({
        id: 'reports',
        name: 'Reports',
        base_url: `${car.origin}/`,
        role: 'viewer',
        event_types: ['reports_*'],
        nav: [{ label: 'Daily', path: '/daily' }],
      })
      .expect(201);
    expect(reg.body).toMatchObject({
      id: 'reports',
      kind: 'sidecar',
      mount: '/m/reports/',
      base_url: car.origin,
      role: 'viewer',
      state: 'unknown',
      nav: [{ label: 'Daily', path: '/m/reports/daily' }],
    });
    expect(reg.body.api_key).toMatch(/^vok_/);
    expect(reg.body.webhook_secret).toMatch(/^whsec_/);

    // The key works, with the viewer's capabilities only.
    const key = { 'X-API-Key': reg.body.api_key };
    await t.http().get('/api/v1/cameras').set(key).expect(200);
    await t.http().post('/api/v1/cameras').set(key).send({ name: 'nope' }).expect(403);

    // Events it subscribed to arrive signed at <base_url>/heldar/events.
    const e = await t.app
      .get(EventsService)
      .emitExternal({ type: 'reports_ready', payload: { day: '2026-11-21' } });
    await waitFor(async () => car.deliveries.length === 1, 10_000, 'a delivery to the sidecar');
    const got = car.deliveries[0];
    expect(new Webhook(reg.body.webhook_secret).verify(got.body, got.headers)).toMatchObject({
      seq: e.seq,
      type: 'reports_ready',
    });

    const list = (await t.http().get('/api/v1/modules').set(admin).expect(200)).body;
    expect(
      list.filter((m: { kind: string }) => m.kind === 'native').map((m: { id: string }) => m.id),
    ).toEqual(expect.arrayContaining(['cameras', 'timeline', 'webhooks', 'modules']));
    expect(list.find((m: { id: string }) => m.id === 'reports')).toMatchObject({
      kind: 'sidecar',
      mount: '/m/reports/',
    });
    expect((await t.http().get('/api/v1/modules/reports').set(admin).expect(200)).body.webhook_id).toBe(
      reg.body.webhook_id,
    );
  });

  it('refuses reserved and duplicate ids, privileged roles and bad origins', async () => {
    const base = { name: 'X', base_url: car.origin };
    expect(
      (
        await t
          .http()
          .post('/api/v1/modules')
          .set(admin)
          .send({ ...base, id: 'cameras' })
          .expect(409)
      ).body.code,
    ).toBe('MODULE_ID_RESERVED');
    expect(
      (
        await t
          .http()
          .post('/api/v1/modules')
          .set(admin)
          .send({ ...base, id: 'reports' })
          .expect(409)
      ).body.code,
    ).toBe('MODULE_EXISTS');
    for (const [body, why] of [
      [{ ...base, id: 'x1', role: 'admin' }, /viewer or integration/],
      [{ ...base, id: 'x2', capabilities: ['admin'] }, /cannot hold: admin/],
      [{ ...base, id: 'x3', base_url: `${car.origin}/sub/path` }, /origin/],
      [{ ...base, id: 'x4', base_url: 'ftp://127.0.0.1' }, /http or https/],
      [{ ...base, id: 'x5', base_url: 'http://169.254.169.254' }, /link-local/],
      [{ ...base, id: 'bad id!' }, /slug/],
    ] as const) {
      expect((await t.http().post('/api/v1/modules').set(admin).send(body).expect(400)).body.error).toMatch(
        why,
      );
    }
    // Nothing half-made was left behind by the refusals.
    const keys = await rawQuery(t, "SELECT name FROM api_keys WHERE name LIKE 'module:x%'");
    expect(keys).toEqual([]);
  });

  it('proxies method, path, query and body; strips credentials and client x-heldar-*; adds who is calling; scrubs response headers', async () => {
    const res = await t
      .http()
      .post('/m/reports/api/echo?day=2026-11-21&x=1')
      .set(admin)
      .set('Cookie', 'heldar_session=secret-cookie')
      .set('X-Heldar-User', 'forged')
      .set('Content-Type', 'text/plain')
      .send('raw body, streamed')
      .expect(200);
    const echo = res.body as { method: string; url: string; headers: Record<string, string>; body: string };
    expect(echo.method).toBe('POST');
    expect(echo.url).toBe('/api/echo?day=2026-11-21&x=1');
    expect(echo.body).toBe('raw body, streamed');
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers.cookie).toBeUndefined();
    expect(echo.headers['x-heldar-user']).toBe(ADMIN.username);
    expect(echo.headers['x-heldar-role']).toBe('admin');
    expect(echo.headers['x-heldar-principal-kind']).toBe('user');
    expect(echo.headers['x-heldar-camera-scope']).toBe('*');
    expect(res.headers['x-sidecar']).toBe('yes');
    for (const h of ['set-cookie', 'clear-site-data', 'access-control-allow-origin'])
      expect(res.headers[h]).toBeUndefined();
    expect(res.headers['strict-transport-security'] ?? '').not.toContain('63072000');

    // The mount root, and a JSON body that the kernel must not parse on the way.
    const root = (await t.http().get('/m/reports').set(admin).expect(200)).body;
    expect(root.url).toBe('/');
    const json = (
      await t
        .http()
        .put('/m/reports/x')
        .set(admin)
        .set('Content-Type', 'application/json')
        .send('{"a":')
        .expect(200)
    ).body;
    expect(json.body).toBe('{"a":');
  });

  it('authorises the proxy (module:proxy), 404s unknown modules, and upgrades WebSockets for allowed callers only', async () => {
    await t.http().get('/m/reports/x').expect(401);
    // An integration key lacks module:proxy.
    const integ = (
      await t
        .http()
        .post('/api/v1/api-keys')
        .set(admin)
        .send({ name: 'integ', role: 'integration' })
        .expect(201)
    ).body.key;
    await t.http().get('/m/reports/x').set('X-API-Key', integ).expect(403);
    expect((await t.http().get('/m/nobody/x').set(admin).expect(404)).body.code).toBe('MODULE_NOT_FOUND');

    const ok = await wsRoundTrip(t.baseUrl, '/m/reports/live?x=1', admin, 'ping-through-the-kernel');
    expect(ok.head).toMatch(/^HTTP\/1\.1 101/);
    expect(ok.head).toMatch(/x-seen-user: root/i);
    expect(ok.head).toMatch(/x-seen-auth: none/i);
    expect(ok.head).toMatch(/x-seen-path: \/live\?x=1/i);
    expect(ok.echo).toBe('ping-through-the-kernel');
    expect((await wsRoundTrip(t.baseUrl, '/m/reports/live', {}, 'x')).head).toMatch(/^HTTP\/1\.1 401/);
    expect((await wsRoundTrip(t.baseUrl, '/m/reports/live', { 'X-API-Key': integ }, 'x')).head).toMatch(
      /^HTTP\/1\.1 403/,
    );
  });

  it('sidecar pages are sandboxed off the kernel origin: forced CSP and isolation headers, no worker scope, no worker scripts', async () => {
    const res = await t.http().get('/m/reports/page.html').set(admin).expect(200);
    expect(res.headers['content-security-policy']).toBe(
      'sandbox allow-scripts allow-forms allow-popups allow-downloads',
    );
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    for (const h of ['service-worker-allowed', 'nel', 'report-to']) expect(res.headers[h]).toBeUndefined();
    // A service worker script is refused whatever the sidecar would answer.
    const sw = await t.http().get('/m/reports/sw.js').set(admin).set('Service-Worker', 'script').expect(403);
    expect(sw.body.code).toBe('SERVICE_WORKER_REFUSED');
  });

  it('client-sent x_heldar_* (underscore) and forwarding headers never reach the sidecar', async () => {
    const echo = (
      await t
        .http()
        .get('/m/reports/who')
        .set(admin)
        .set('x_heldar_user', 'forged')
        .set('X_Heldar_Role', 'admin')
        .set('X-Heldar_Camera-Scope', '*')
        .set('X-Forwarded-For', '6.6.6.6')
        .set('X-Forwarded-Host', 'evil.example')
        .set('X-Forwarded-Proto', 'https')
        .set('x_forwarded_for', '6.6.6.7')
        .set('X-Real-IP', '6.6.6.8')
        .set('Forwarded', 'for=6.6.6.9')
        .expect(200)
    ).body as { headers: Record<string, string> };
    const seen = JSON.stringify(echo.headers);
    expect(seen).not.toMatch(/forged|6\.6\.6|evil\.example/);
    for (const h of [
      'x_heldar_user',
      'x_heldar_role',
      'x-heldar_camera-scope',
      'x_forwarded_for',
      'x-real-ip',
      'forwarded',
    ])
      expect(echo.headers[h]).toBeUndefined();
    expect(echo.headers['x-heldar-user']).toBe(ADMIN.username);
    expect(echo.headers['x-heldar-camera-scope']).toBe('*');
    expect(echo.headers['x-forwarded-for']).toMatch(/^(::ffff:)?127\.0\.0\.1$/); // the kernel's own
    expect(echo.headers['x-forwarded-proto']).toBe('http');

    const ws = await wsRoundTrip(
      t.baseUrl,
      '/m/reports/live',
      { ...admin, x_heldar_user: 'forged', 'X-Forwarded-For': '6.6.6.6' },
      'x',
    );
    expect(ws.head).toMatch(/^HTTP\/1\.1 101/);
    expect(ws.head).toMatch(/x-seen-underscore: none/i);
    expect(ws.head).not.toMatch(/6\.6\.6\.6/);
  });

  it('CSRF: cookie requests to /m/ from a foreign origin are refused; same origin and API keys pass', async () => {
    const token = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token as string;
    const cookie = { Cookie: `heldar_session=${token}` };
    const refused = await t
      .http()
      .post('/m/reports/api/do')
      .set(cookie)
      .set('Origin', 'http://127.0.0.1:1') // a sibling origin: same site, another port
      .send('x')
      .expect(403);
    expect(refused.body.code).toBe('ORIGIN_REFUSED');
    expect(
      (await t.http().post('/m/reports/api/do').set(cookie).set('Origin', t.baseUrl).send('x').expect(200))
        .body.method,
    ).toBe('POST');
    const key = (
      await t
        .http()
        .post('/api/v1/api-keys')
        .set(admin)
        .send({ name: 'proxy caller', role: 'guard' })
        .expect(201)
    ).body.key as string;
    await t
      .http()
      .post('/m/reports/api/do')
      .set('X-API-Key', key)
      .set('Origin', 'https://evil.example')
      .send('x')
      .expect(200);

    // WebSocket upgrades with the cookie: the browser always sends Origin.
    const foreign = await wsRoundTrip(
      t.baseUrl,
      '/m/reports/live',
      { ...cookie, Origin: 'https://evil.example' },
      'x',
    );
    expect(foreign.head).toMatch(/^HTTP\/1\.1 403/);
    expect(foreign.head).toMatch(/connection: close/i);
    // wsRoundTrip sends `Host: 127.0.0.1`: that is the page's own origin here.
    const same = await wsRoundTrip(
      t.baseUrl,
      '/m/reports/live',
      { ...cookie, Origin: 'http://127.0.0.1' },
      'echo',
    );
    expect(same.head).toMatch(/^HTTP\/1\.1 101/);
    expect(same.echo).toBe('echo');
  });

  it('health probes record transitions as events; a sidecar that is down answers 502 through the proxy', async () => {
    const modules = t.app.get(SidecarsService);
    await modules.probeAll();
    expect((await t.http().get('/api/v1/modules/reports').set(admin).expect(200)).body.state).toBe('healthy');
    car.healthy = false;
    await modules.probeAll();
    const down = (await t.http().get('/api/v1/modules/reports').set(admin).expect(200)).body;
    expect(down).toMatchObject({ state: 'unreachable', health_error: 'HTTP 503' });
    car.healthy = true;
    await modules.probeAll();
    const types = (await t.http().get('/api/v1/events?event_type=module_*').set(admin).expect(200)).body.map(
      (e: { event_type: string }) => e.event_type,
    );
    // Each health transition also moves the sidecar's registry record (running / failed).
    expect(types).toEqual([
      'module_recovered',
      'module_state_changed',
      'module_unreachable',
      'module_state_changed',
      'module_state_changed',
    ]);

    const port = car.port;
    await car.stop();
    const bad = await t.http().get('/m/reports/x').set(admin).expect(502);
    expect(bad.body).toMatchObject({ code: 'MODULE_UNREACHABLE' });
    await car.start(port);
  });

  it('unregistering removes key, webhook and mount together', async () => {
    const mod = (await t.http().get('/api/v1/modules/reports').set(admin).expect(200)).body;
    const key = (await t.http().get('/api/v1/api-keys').set(admin).expect(200)).body.find(
      (k: { id: string }) => k.id === mod.api_key_id,
    );
    expect(key).toBeDefined();
    await t.http().delete('/api/v1/modules/reports').set(admin).expect(204);
    await t.http().get('/api/v1/modules/reports').set(admin).expect(404);
    await t.http().get('/m/reports/x').set(admin).expect(404);
    await t.http().get(`/api/v1/webhooks/${mod.webhook_id}`).set(admin).expect(404);
    expect(await rawQuery(t, `SELECT id FROM api_keys WHERE id = '${mod.api_key_id}'`)).toEqual([]);
    const before = car.deliveries.length;
    await t.app.get(EventsService).emitExternal({ type: 'reports_ready' });
    await new Promise((r) => setTimeout(r, 1500)); // a delivery would have arrived by now
    expect(car.deliveries.length).toBe(before);
    await t.http().delete('/api/v1/modules/reports').set(admin).expect(404);
  });
});
