import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const ADMIN = { username: 'root', password: 'root-password-1' };

/** ffprobe children whose command line names `url` (read from /proc). */
function probesOf(url: string): number {
  let n = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv.includes(url) && argv.some((a) => a.endsWith('ffprobe'))) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

describe(`camera test probes are bounded (${ENGINE})`, () => {
  let t: TestApp;
  let silent: Server;
  const sockets = new Set<Socket>();
  let url = '';
  const keys: string[] = [];

  beforeAll(async () => {
    // Accepts TCP and never answers RTSP: every probe hangs until its timeout.
    silent = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    url = `rtsp://127.0.0.1:${(silent.address() as { port: number }).port}/hang`;
    t = await startTestApp({
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_RECORDER_ENABLED: 'false',
        HELDAR_CAMERA_TEST_TIMEOUT_MS: '6000',
        HELDAR_PROBE_CONCURRENCY: '4',
        HELDAR_PROBE_CONCURRENCY_PER_PRINCIPAL: '2',
      },
    });
    const token = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token as string;
    const admin = { Authorization: `Bearer ${token}` };
    await t
      .http()
      .post('/api/v1/cameras')
      .set(admin)
      .send({ id: 'hang', name: 'hang', main_stream_url: url })
      .expect(201);
    for (const name of ['k1', 'k2', 'k3']) {
      keys.push(
        (await t.http().post('/api/v1/api-keys').set(admin).send({ name }).expect(201)).body.key as string,
      );
    }
  });

  afterAll(async () => {
    await t?.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent?.close(r));
  });

  it('30 concurrent tests: at most 4 ffprobe at once (2 per caller), the rest 503 + Retry-After at once; then a probe works', async () => {
    let maxSeen = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        maxSeen = Math.max(maxSeen, probesOf(url));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t
          .http()
          .post('/api/v1/cameras/hang/test')
          .set('X-API-Key', keys[i % 3])
          .then((res) => ({ res, ms: Date.now() - started })),
      ),
    );
    watching = false;
    await watcher;

    const busy = answers.filter((a) => a.res.status === 503);
    const probed = answers.filter((a) => a.res.status === 200);
    expect(busy.length + probed.length).toBe(30);
    expect(probed.length).toBeGreaterThanOrEqual(3); // each caller got at least one slot
    expect(probed.length).toBeLessThanOrEqual(4);
    for (const { res } of busy) {
      expect(res.body).toEqual({
        error: expect.stringMatching(/camera probes in flight/),
        code: 'PROBE_BUSY',
      });
      expect(res.headers['retry-after']).toBe('6');
    }
    // Refused at once: every 503 came back before the first admitted probe gave up on the silent source.
    expect(Math.max(...busy.map((a) => a.ms))).toBeLessThan(Math.min(...probed.map((a) => a.ms)));
    for (const { res } of probed) expect(res.body).toMatchObject({ reachable: false });
    expect(maxSeen).toBeGreaterThanOrEqual(1); // the watcher does see the probes
    expect(maxSeen).toBeLessThanOrEqual(4);
    expect(probesOf(url)).toBe(0);

    // Slots are given back: a new probe runs (and, the source being silent, reports it).
    const again = await t.http().post('/api/v1/cameras/hang/test').set('X-API-Key', keys[0]).expect(200);
    expect(again.body).toMatchObject({ reachable: false });
  }, 30_000);
});
