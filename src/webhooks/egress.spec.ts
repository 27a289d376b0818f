import dns, { type LookupAddress } from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { get, GuardedClient, GuardedHttpAgent, RESPONSE_DRAIN_LIMIT, vetUrl } from './egress';

/** Spellings of the metadata address (and names) a URL can carry; the URL parser normalises some. */
const HOSTILE_URLS = [
  'http://169.254.169.254/latest/meta-data',
  'http://[::ffff:169.254.169.254]/',
  'http://[::ffff:a9fe:a9fe]/',
  'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
  'http://[::ffff:0:a9fe:a9fe]/',
  'http://[::a9fe:a9fe]/',
  'http://[::169.254.169.254]/',
  'http://[64:ff9b::a9fe:a9fe]/',
  'http://[64:ff9b::169.254.169.254]/',
  'http://[64:ff9b:1::a9fe:a9fe]/',
  'http://[2002:a9fe:a9fe::]/',
  'http://[2001:0:4136:e378:8000:63bf:5601:5601]/',
  'http://[fe80::1]/',
  'http://[fd00:ec2::254]/',
  'http://2852039166/',
  'http://0251.0376.0251.0376/',
  'http://0xa9.0xfe.0xa9.0xfe/',
  'http://0xa9fea9fe/',
  'http://169.254.43518/',
  'https://127.0.0.1@169.254.169.254/',
  'http://169.254.169.254#@example.com/',
  'http://169.254.169.254:80\\@example.com/',
  'http://metadata.google.internal/',
  'http://METADATA.google.internal./computeMetadata/v1/',
  'http://metadata/',
  'http://100.100.100.200/',
  'http://0.0.0.0:9100/',
];

describe('vetUrl', () => {
  it.each(HOSTILE_URLS)('refuses %s', async (url) => {
    const v = await vetUrl(url);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.problem).toMatch(/link-local|metadata|unspecified/);
  });

  it.each([
    'http://127.0.0.1:9100/',
    'http://[::1]:9100/',
    'http://192.168.1.20/hook',
    'http://localhost:1/',
  ])('accepts %s', async (url) => {
    expect((await vetUrl(url)).ok).toBe(true);
  });
});

describe('connect-time guard', () => {
  let server: http.Server;
  let port = 0;
  let hits = 0;

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      hits++;
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  afterEach(() => jest.restoreAllMocks());

  /** GET through `agent`; resolves with the status or the error. */
  function fetchVia(
    agent: http.Agent,
    url: string,
  ): Promise<{ status?: number; error?: NodeJS.ErrnoException }> {
    return new Promise((resolve) => {
      const req = http.get(url, { agent, timeout: 3000 }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => resolve({ error }));
    });
  }

  /** Make `name` resolve to `address` (a sidecar host re-pointed after registration). */
  function repoint(name: string, address: string, family: 4 | 6): void {
    const real = dns.lookup.bind(dns) as (...args: unknown[]) => void;
    jest.spyOn(dns, 'lookup').mockImplementation(((host: string, options: unknown, cb: unknown) => {
      if (host !== name) return real(host, options, cb);
      const all: LookupAddress[] = [{ address, family }];
      const callback = cb as (e: null, a: string | LookupAddress[], f?: number) => void;
      if ((options as { all?: boolean }).all) callback(null, all);
      else callback(null, address, family);
    }) as unknown as typeof dns.lookup);
  }

  it('the guarded agent connects to an allowed name and address', async () => {
    const agent = new GuardedHttpAgent();
    expect((await fetchVia(agent, `http://127.0.0.1:${port}/`)).status).toBe(200);
    repoint('sidecar.test', '127.0.0.1', 4);
    expect((await fetchVia(agent, `http://sidecar.test:${port}/`)).status).toBe(200);
    agent.destroy();
  });

  it.each([
    ['169.254.169.254', 4],
    ['::ffff:169.254.169.254', 6],
    ['::ffff:a9fe:a9fe', 6],
    ['64:ff9b::a9fe:a9fe', 6],
    ['fe80::1', 6],
  ] as const)('the guarded agent refuses a name resolving to %s', async (address, family) => {
    repoint('sidecar.test', address, family);
    const agent = new GuardedHttpAgent();
    const before = hits;
    const r = await fetchVia(agent, `http://sidecar.test:${port}/`);
    expect(r.error?.code).toBe('EBLOCKED');
    expect(r.error?.message).toMatch(/^refused: sidecar\.test resolves to a link-local address/);
    expect(hits).toBe(before);
    agent.destroy();
  });

  it.each(['http://[::ffff:169.254.169.254]/', 'http://[64:ff9b::a9fe:a9fe]/', 'http://169.254.169.254/'])(
    'the guarded agent refuses the literal %s (a literal never reaches lookup)',
    async (url) => {
      const agent = new GuardedHttpAgent();
      const r = await fetchVia(agent, url);
      expect(r.error?.code).toBe('EBLOCKED');
      expect(r.error?.message).toMatch(/^refused: .* is a link-local address/);
      agent.destroy();
    },
  );

  it.each([
    'http://[::ffff:169.254.169.254]/heldar/health',
    'http://[::a9fe:a9fe]/',
    'http://[2002:a9fe:a9fe::]/',
  ])('get() refuses the literal %s without connecting', async (url) => {
    const r = await get(url, 3000);
    expect(r).toMatchObject({ ok: false, statusCode: null });
    expect(r.error).toMatch(/^refused: .* is a link-local address/);
    expect(r.durationMs).toBeLessThan(100);
  });

  it('get() refuses a name re-pointed at a metadata address, even right after a success (no pooled socket)', async () => {
    repoint('sidecar.test', '127.0.0.1', 4);
    expect(await get(`http://sidecar.test:${port}/heldar/health`, 3000)).toMatchObject({
      ok: true,
      statusCode: 200,
    });
    jest.restoreAllMocks();
    repoint('sidecar.test', '::ffff:169.254.169.254', 6);
    const before = hits;
    const r = await get(`http://sidecar.test:${port}/heldar/health`, 3000);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^refused: sidecar\.test resolves to a link-local address/);
    expect(hits).toBe(before);
  });
});

describe('GuardedClient (webhook deliveries)', () => {
  let server: http.Server;
  let port = 0;
  const seen: string[] = [];
  let connections = 0;
  let endlessClosed = false;
  let client: GuardedClient;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push(`${req.url} ${req.headers['user-agent']} ${Buffer.concat(chunks).toString()}`);
        if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end();
        else if (req.url === '/fail') res.writeHead(503).end('busy');
        else if (req.url === '/silent')
          return; // never answers
        else if (req.url === '/endless') {
          // 200, then a body that never ends: the delivery is done once the status is known.
          res.on('close', () => (endlessClosed = true));
          res.writeHead(200, { 'content-type': 'text/plain' });
          const chunk = Buffer.alloc(16 * 1024, 'x');
          const more = () => {
            while (!res.destroyed && res.write(chunk));
            if (!res.destroyed) res.once('drain', more);
          };
          more();
        } else res.writeHead(204).end();
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  beforeEach(() => {
    client = new GuardedClient({ connections: 4, connectTimeoutMs: 3000 });
    seen.length = 0;
    connections = 0;
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await client.destroy();
    server.closeAllConnections();
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('POSTs the body with its headers, and keeps the connection for the next delivery', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await client.post(
        `http://127.0.0.1:${port}/hook?x=${i}`,
        { 'content-type': 'application/json' },
        `{"i":${i}}`,
        3000,
      );
      expect(r).toMatchObject({ ok: true, statusCode: 204, error: null });
    }
    expect(seen).toEqual([...Array(10).keys()].map((i) => `/hook?x=${i} Heldar/1 {"i":${i}}`));
    expect(connections).toBeLessThanOrEqual(2); // kept alive (a second may open while the first winds down)
  });

  it('reports a non-2xx answer, and never follows a redirect', async () => {
    expect(await client.post(`http://127.0.0.1:${port}/fail`, {}, '{}', 3000)).toMatchObject({
      ok: false,
      statusCode: 503,
      error: 'HTTP 503',
    });
    expect(await client.post(`http://127.0.0.1:${port}/redirect`, {}, '{}', 3000)).toMatchObject({
      ok: false,
      statusCode: 302,
      error: 'redirect not followed',
    });
    expect(seen.map((l) => l.split(' ')[0])).toEqual(['/fail', '/redirect']);
  });

  it('gives up on a receiver that never answers after the timeout', async () => {
    const r = await client.post(`http://127.0.0.1:${port}/silent`, {}, '{}', 300);
    expect(r).toMatchObject({ ok: false, statusCode: null, error: 'timed out after 300 ms' });
    expect(r.durationMs).toBeGreaterThanOrEqual(250);
  });

  it(`a 2xx whose body never ends is a success: at most ${RESPONSE_DRAIN_LIMIT} bytes are read, then the connection is dropped`, async () => {
    const r = await client.post(`http://127.0.0.1:${port}/endless`, {}, '{}', 60_000);
    expect(r).toMatchObject({ ok: true, statusCode: 200, error: null });
    expect(r.durationMs).toBeLessThan(30_000);
    // The kernel hung up on the endless one; the next delivery is served.
    for (let i = 0; i < 100 && !endlessClosed; i++) await new Promise((r) => setTimeout(r, 20));
    expect(endlessClosed).toBe(true);
    expect(await client.post(`http://127.0.0.1:${port}/ok`, {}, '{}', 3000)).toMatchObject({ ok: true });
  });

  it.each([
    ['169.254.169.254', 4],
    ['::ffff:169.254.169.254', 6],
    ['::ffff:a9fe:a9fe', 6],
    ['64:ff9b::a9fe:a9fe', 6],
    ['fe80::1', 6],
  ] as const)('refuses a name resolving to %s at connect time', async (address, family) => {
    repointName('hook.test', address, family);
    const r = await client.post(`http://hook.test:${port}/hook`, {}, '{}', 3000);
    expect(r).toMatchObject({ ok: false, statusCode: null });
    expect(r.error).toMatch(/^refused: hook\.test resolves to a link-local address/);
    expect(connections).toBe(0);
  });

  it.each([
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[2002:a9fe:a9fe::]/',
    'http://169.254.169.254/',
    'http://2852039166/',
    'https://[fe80::1]/',
  ])('refuses the literal %s without connecting', async (url) => {
    const r = await client.post(url, {}, '{}', 3000);
    expect(r).toMatchObject({ ok: false, statusCode: null });
    expect(r.error).toMatch(/^refused: .* is a link-local address/);
  });

  it('judges every new connection: a name re-pointed at the metadata address after a success is refused', async () => {
    repointName('hook.test', '127.0.0.1', 4);
    expect(await client.post(`http://hook.test:${port}/a`, {}, '{}', 3000)).toMatchObject({ ok: true });
    server.closeAllConnections(); // the pooled connection goes; the next delivery must connect again
    jest.restoreAllMocks();
    repointName('hook.test', '::ffff:169.254.169.254', 6);
    const r = await client.post(`http://hook.test:${port}/b`, {}, '{}', 3000);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^refused: hook\.test resolves to a link-local address/);
    expect(seen.map((l) => l.split(' ')[0])).toEqual(['/a']);
  });
});

/** Make `name` resolve to `address`. */
function repointName(name: string, address: string, family: 4 | 6): void {
  const real = dns.lookup.bind(dns) as (...args: unknown[]) => void;
  jest.spyOn(dns, 'lookup').mockImplementation(((host: string, options: unknown, cb: unknown) => {
    if (host !== name) return real(host, options, cb);
    const all: LookupAddress[] = [{ address, family }];
    const callback = (typeof options === 'function' ? options : cb) as (
      e: null,
      a: string | LookupAddress[],
      f?: number,
    ) => void;
    if ((options as { all?: boolean } | undefined)?.all) callback(null, all);
    else callback(null, address, family);
  }) as unknown as typeof dns.lookup);
}
