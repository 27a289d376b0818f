import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/**
 * The reference worker (examples/motion-worker) as a user runs it: a real child process, with an
 * integration API key, against the real kernel sampling the RTSP test camera (GStreamer's moving
 * ball). What it posts must land as `motion` detections and drive the zone engine.
 */

const ROOT = join(__dirname, '..', '..');
const ADMIN = { username: 'root', password: 'root-password-1' };

interface Detection {
  label: string;
  task_type: string;
  confidence: number;
  bbox: number[];
  track_id: string;
  frame_id: string;
  timestamp: string;
  attributes: Record<string, unknown>;
}

interface Worker {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Compile the worker the way `npm run build` does (tsconfig.build.json's options) into a temp dir,
 * so the test runs the current source whether or not dist/ was built (~2 s). The output requires
 * its packages from this repository's node_modules through NODE_PATH.
 */
async function buildWorker(outDir: string): Promise<string> {
  const config = join(outDir, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.build.json'),
      compilerOptions: {
        outDir: join(outDir, 'out'),
        rootDir: ROOT,
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        sourceMap: false,
      },
      include: [join(ROOT, 'examples', 'motion-worker', 'main.ts')],
      exclude: [],
    }),
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', config], { cwd: ROOT });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`the motion worker does not compile:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  return join(outDir, 'out', 'examples', 'motion-worker', 'main.js');
}

function spawnWorker(main: string, args: string[]): Worker {
  const child = spawn(process.execPath, [main, ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), HELDAR_API_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

/** waitFor, with the worker's output in the message when it times out. */
function waitWorker<T>(w: Worker, fn: () => Promise<T | null | undefined | false>, ms: number, what: string) {
  return waitFor(fn, ms, what).catch((err: Error) => {
    throw new Error(`${err.message}\n--- worker output ---\n${w.output()}`);
  });
}

async function kill(w: Worker | undefined): Promise<void> {
  if (!w || w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGKILL');
  await w.exited;
}

describe(`the reference motion worker (${ENGINE})`, () => {
  let t: TestApp;
  let cam: TestCamera;
  let tmp: string;
  let main: string;
  let admin: Record<string, string>;
  let key: string;
  let zoneId: string;
  const workers: Worker[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'heldar-motion-worker-'));
    // Started together; each assigned as it comes up, so a failure of one still tears down the others.
    const started = await Promise.allSettled([
      startTestCamera({ width: 320, height: 240, fps: 10 }).then((c) => (cam = c)),
      startTestApp({
        env: {
          HELDAR_AUTH_ENABLED: 'true',
          HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
          HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
          HELDAR_LOGIN_RATE_LIMIT_PER_MIN: '0',
        },
      }).then((a) => (t = a)),
      buildWorker(tmp).then((m) => (main = m)),
    ]);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const login = await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200);
    admin = { Authorization: `Bearer ${login.body.token}` };
    await t
      .http()
      .post('/api/v1/cameras')
      .set(admin)
      .send({ id: 'mw1', name: 'Ball', main_stream_url: cam.url })
      .expect(201);
    await t
      .http()
      .post('/api/v1/cameras/mw1/ai-tasks')
      .set(admin)
      .send({ task_type: 'motion', fps: 2, width: 320 })
      .expect(201);
    // The whole frame, for motion only, with the zone engine's defaults (confirm 2 frames,
    // min_confidence 0.5): what a user would set up first.
    zoneId = (
      await t
        .http()
        .post('/api/v1/cameras/mw1/zones')
        .set(admin)
        .send({
          name: 'Everything',
          labels: ['motion'],
          polygon: [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 1],
          ],
        })
        .expect(201)
    ).body.id;
    key = (
      await t
        .http()
        .post('/api/v1/api-keys')
        .set(admin)
        .send({ name: 'motion worker', role: 'integration' })
        .expect(201)
    ).body.key;
  });

  afterAll(async () => {
    await Promise.all(workers.map(kill));
    await t?.close();
    await cam?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const start = (args: string[]) => {
    const w = spawnWorker(main, ['--api', t.baseUrl, '--discovery-ms', '1000', '--verbose', ...args]);
    workers.push(w);
    return w;
  };
  const detections = async (): Promise<Detection[]> =>
    (await t.http().get('/api/v1/cameras/mw1/detections?label=motion&limit=1000').set(admin).expect(200))
      .body;

  it('posts tracked motion of the moving ball as detections that drive the zone engine', async () => {
    const w = start(['--key', key, '--worker-id', 'e2e-motion']);

    // Detections on at least three frames.
    const dets = await waitWorker(
      w,
      async () => {
        if (w.child.exitCode !== null) throw new Error(`the worker exited (${w.child.exitCode})`);
        const list = await detections();
        return new Set(list.map((d) => d.frame_id)).size >= 3 ? list : null;
      },
      60_000,
      'motion detections from the worker',
    );

    for (const d of dets) {
      expect(d).toMatchObject({ label: 'motion', task_type: 'motion' });
      expect(d.bbox).toHaveLength(4);
      const [x, y, bw, bh] = d.bbox;
      for (const v of d.bbox) expect(v).toBeGreaterThanOrEqual(0);
      expect(bw).toBeGreaterThan(0);
      expect(bh).toBeGreaterThan(0);
      expect(x + bw).toBeLessThanOrEqual(1 + 1e-9);
      expect(y + bh).toBeLessThanOrEqual(1 + 1e-9);
      expect(d.confidence).toBeGreaterThan(0.5);
      expect(d.confidence).toBeLessThanOrEqual(1);
      expect(d.track_id).toMatch(/^[0-9a-z]+-\d+$/);
      // frame_id is the frame's capture time, which is also the detection's timestamp.
      expect(new Date(d.frame_id).toISOString()).toBe(d.frame_id);
      expect(d.timestamp).toBe(d.frame_id);
      expect(d.attributes).toMatchObject({ source: 'worker', _prov: { task: 'motion' } });
    }

    // A track that stays inside the zone for two frames enters it.
    const enter = await waitWorker(
      w,
      async () => {
        const events = (
          await t.http().get(`/api/v1/cameras/mw1/zone-events?zone_id=${zoneId}`).set(admin).expect(200)
        ).body as Array<{ event_type: string; label: string; track_id: string }>;
        return events.find((e) => e.event_type === 'enter');
      },
      30_000,
      "a zone_enter from the worker's tracks",
    );
    expect(enter.label).toBe('motion');
    const tracked = (await detections()).filter((d) => d.track_id === enter.track_id);
    expect(new Set(tracked.map((d) => d.frame_id)).size).toBeGreaterThanOrEqual(2);
    const kernel = (await t.http().get('/api/v1/events?event_type=zone_enter').set(admin).expect(200)).body;
    expect(kernel).toContainEqual(
      expect.objectContaining({
        camera_id: 'mw1',
        payload: expect.objectContaining({ zone_id: zoneId, track_id: enter.track_id }),
      }),
    );

    // SIGTERM: a graceful stop, exit code 0.
    w.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      w.exited,
      new Promise<null>((r) => (timer = setTimeout(() => r(null), 10_000))),
    ]);
    clearTimeout(timer);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(w.output()).toMatch(/motion worker stopped/);
  });

  it('a refused key is logged, not fatal: the worker keeps its heartbeat going', async () => {
    const w = start(['--key', 'vok_0000000000000000000000000000000000000000000000000000000000000000']);
    await waitWorker(w, async () => /HTTP 401/.test(w.output()), 15_000, 'a logged 401');
    // Two more discovery periods: still running.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(w.child.exitCode).toBeNull();
    w.child.kill('SIGINT');
    expect(await w.exited).toEqual({ code: 0, signal: null });
  });
});
