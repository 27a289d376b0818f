import dns, { type LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseService } from '../../src/database/database.service';
import { SidecarEntity } from '../../src/sidecars/entities/sidecar.entity';
import { SidecarsService } from '../../src/sidecars/sidecars.service';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const ADMIN = { username: 'root', password: 'root-password-1' };

/** The metadata address (and names) as URL hosts, in the spellings the URL parser lets through. */
const HOSTILE_ORIGINS = [
  'http://[::ffff:169.254.169.254]',
  'http://[::a9fe:a9fe]',
  'http://[0:0:0:0:0:ffff:a9fe:a9fe]',
  'http://[64:ff9b::a9fe:a9fe]',
  'http://[64:ff9b:1::a9fe:a9fe]',
  'http://[2002:a9fe:a9fe::]',
  'http://0251.0376.0251.0376',
  'http://2852039166',
  'http://0xa9.0xfe.0xa9.0xfe',
  'http://metadata.google.internal',
];

/**
 * SSRF through address spellings (issue 13 item 3): sidecar registration, webhooks and camera
 * http sources refuse the metadata address in every spelling, and the sidecar proxy and health probe
 * refuse it at connect time when a registered host is re-pointed (or a blocked literal is stored).
 */
describe(`egress guard (${ENGINE})`, () => {
  let t: TestApp;
  let admin: Record<string, string>;
  let sidecar: Server;
  let sidecarPort = 0;
  let hits = 0;
  /** Where the test's DNS sends `sidecar.test`. */
  let sidecarAddress = '127.0.0.1';

  beforeAll(async () => {
    sidecar = createServer((req, res) => {
      hits++;
      res.writeHead(req.url === '/heldar/events' ? 204 : 200, { 'content-type': 'application/json' });
      res.end(req.url === '/heldar/events' ? undefined : JSON.stringify({ url: req.url }));
    });
    await new Promise<void>((resolve) => sidecar.listen(0, '127.0.0.1', resolve));
    sidecarPort = (sidecar.address() as AddressInfo).port;

    // A host name the test can re-point, as an attacker controlling the sidecar's DNS would.
    const family = () => (sidecarAddress.includes(':') ? 6 : 4);
    const realLookup = dns.lookup.bind(dns) as (...args: unknown[]) => void;
    jest.spyOn(dns, 'lookup').mockImplementation(((host: string, options: unknown, cb: unknown) => {
      if (host !== 'sidecar.test') return realLookup(host, options, cb);
      const callback = (typeof options === 'function' ? options : cb) as (
        e: null,
        a: string | LookupAddress[],
        f?: number,
      ) => void;
      if ((options as { all?: boolean } | undefined)?.all)
        callback(null, [{ address: sidecarAddress, family: family() }]);
      else callback(null, sidecarAddress, family());
    }) as unknown as typeof dns.lookup);
    const realPromise = dns.promises.lookup.bind(dns.promises);
    jest
      .spyOn(dns.promises, 'lookup')
      .mockImplementation(((host: string, options: dns.LookupAllOptions) =>
        host === 'sidecar.test'
          ? Promise.resolve([{ address: sidecarAddress, family: family() }])
          : realPromise(host, options)) as unknown as typeof dns.promises.lookup);

    t = await startTestApp({
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_MODULE_HEALTH_INTERVAL_S: '3600', // the test drives the probes
        HELDAR_RECORDER_ENABLED: 'false',
      },
    });
    const token = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token as string;
    admin = { Authorization: `Bearer ${token}` };
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await t?.close();
    await new Promise<void>((resolve) => sidecar?.close(() => resolve()));
  });

  it.each(HOSTILE_ORIGINS)('refuses a sidecar registered at %s', async (origin) => {
    const res = await t
      .http()
      .post('/api/v1/modules')
      .set(admin)
      .send({ id: 'evil', name: 'Evil', base_url: `${origin}/` })
      .expect(400);
    expect(res.body).toEqual({
      error: expect.stringMatching(/link-local|metadata/),
      code: 'VALIDATION_FAILED',
    });
    await t.http().get('/api/v1/modules/evil').set(admin).expect(404);
  });

  it.each(HOSTILE_ORIGINS)('refuses a webhook to %s', async (origin) => {
    const res = await t
      .http()
      .post('/api/v1/webhooks')
      .set(admin)
      .send({ name: 'evil', url: `${origin}/latest/meta-data` })
      .expect(400);
    expect(res.body).toEqual({
      error: expect.stringMatching(/link-local|metadata/),
      code: 'VALIDATION_FAILED',
    });
  });

  it('refuses camera http(s) sources at the metadata address; RTSP on the LAN stays fine', async () => {
    const create = (body: object) => t.http().post('/api/v1/cameras').set(admin).send(body);
    for (const body of [
      { name: 'c1', main_stream_url: 'http://[::ffff:169.254.169.254]/latest/meta-data' },
      { name: 'c2', main_stream_url: 'rtsp://127.0.0.1:8554/a', sub_stream_url: 'https://2852039166/' },
      { name: 'c3', url_template: 'http://{host}/snap.jpg', address: '169.254.169.254' },
      { name: 'c4', url_template: 'http://{host}/snap.jpg', address: '127.0.0.1@169.254.169.254' },
      { name: 'c5', main_stream_url: 'http://metadata.google.internal/computeMetadata/v1/' },
      { name: 'c6', main_stream_url: 'http://169.254.169.254#@camera.lan/' },
    ]) {
      const res = await create(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body).toEqual({
        error: expect.stringMatching(/^camera https? URL host .* is a (link-local|cloud metadata)/),
        code: 'VALIDATION_FAILED',
      });
    }
    // Controls: RTSP to loopback and to a link-local camera, and http to a LAN camera, are accepted.
    await create({ id: 'lan', name: 'lan', main_stream_url: 'rtsp://127.0.0.1:8554/test' }).expect(201);
    await create({ name: 'autoip', vendor: 'hikvision', address: '169.254.10.20' }).expect(201);
    await create({ name: 'mjpeg', main_stream_url: 'http://192.168.1.64/video.mjpg' }).expect(201);

    // An update that would produce such a URL is refused, and changes nothing.
    const patch = (body: object) => t.http().patch('/api/v1/cameras/lan').set(admin).send(body);
    await patch({ url_template: 'http://{host}/{stream}', address: '::ffff:a9fe:a9fe' }).expect(400);
    await patch({ main_stream_url: 'http://[64:ff9b::a9fe:a9fe]/' }).expect(400);
    await patch({ address: '169.254.169.254' }).expect(200); // no http template: RTSP stays as it was
    await patch({ url_template: 'http://{host}/snap' }).expect(400); // the stored address now makes it one
    const cam = (await t.http().get('/api/v1/cameras/lan').set(admin).expect(200)).body;
    expect(cam).toMatchObject({ main_stream_url: 'rtsp://127.0.0.1:8554/test', url_template: null });
  });

  it('a sidecar host re-pointed at the metadata address after registration is refused by the proxy and the health probe', async () => {
    sidecarAddress = '127.0.0.1';
    await t
      .http()
      .post('/api/v1/modules')
      .set(admin)
      .send({ id: 'moved', name: 'Moved', base_url: `http://sidecar.test:${sidecarPort}` })
      .expect(201);
    const modules = t.app.get(SidecarsService);
    // Control: while the name points at loopback, the proxy and the probe reach the sidecar.
    expect((await t.http().get('/m/moved/hello').set(admin).expect(200)).body).toEqual({ url: '/hello' });
    expect(await modules.probe((await modules.lookup('moved'))!)).toBe('healthy');

    for (const address of ['169.254.169.254', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe']) {
      sidecarAddress = address;
      const before = hits;
      const res = await t.http().get('/m/moved/hello').set(admin);
      expect(res.status).toBe(502);
      expect(res.body).toEqual({
        error: expect.stringMatching(
          /^module `moved` is unreachable: refused: sidecar\.test resolves to a link-local/,
        ),
        code: 'MODULE_UNREACHABLE',
      });
      expect(await modules.probe((await modules.lookup('moved'))!)).toBe('unreachable');
      const row = (await t.http().get('/api/v1/modules/moved').set(admin).expect(200)).body;
      expect(row).toMatchObject({ state: 'unreachable' });
      expect(row.health_error).toMatch(/^refused: sidecar\.test resolves to a link-local address/);
      expect(hits).toBe(before); // nothing left the kernel
    }
  });

  it('a blocked literal base_url already in the database is refused by the proxy and the health probe', async () => {
    // A row written before this check existed (or by hand): the literal never goes through DNS.
    await t.app
      .get(DatabaseService)
      .run((m) =>
        m.getRepository(SidecarEntity).update({ id: 'moved' }, { baseUrl: 'http://[::ffff:a9fe:a9fe]' }),
      );
    const res = await t.http().get('/m/moved/hello').set(admin);
    expect(res.status).toBe(502);
    expect(res.body).toEqual({
      error: expect.stringMatching(
        /^module `moved` is unreachable: refused: ::ffff:a9fe:a9fe is a link-local/,
      ),
      code: 'MODULE_UNREACHABLE',
    });
    const modules = t.app.get(SidecarsService);
    expect(await modules.probe((await modules.lookup('moved'))!)).toBe('unreachable');
    const row = (await t.http().get('/api/v1/modules/moved').set(admin).expect(200)).body;
    expect(row.health_error).toMatch(/^refused: ::ffff:a9fe:a9fe is a link-local address/);
  });
});
