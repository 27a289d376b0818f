import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/heldar-config';
import { defaultWebDir } from '../src/console/console-static';
import { EventsService } from '../src/events/events.service';
import { TimelineRepository } from '../src/timeline/timeline.repository';
import { pct, round } from './stats';

/**
 * The operator console in the test browser (Debian's chromium): the first paint of the live wall
 * (8 cameras) and of one camera's 24 h timeline holding 1,440 segments of 60 s and 500 events, from
 * navigation start to the frame in which the view is drawn (the console's own `heldar:painted:`
 * mark), each against the raw figure of the same run: the same API JSON fetched with fetch() in the
 * same page. Also the gzip size of the shipped JS and CSS, and every request made outside the kernel
 * (must be none).
 */
const CHROMIUM = '/usr/bin/chromium';
const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 15);
const WALL_CAMERAS = 8;
const SEGMENTS = 1440;
const EVENTS = 500;
const CAMERA = 'bench';

export interface ConsoleBenchResult {
  runs: number;
  wall_cameras: number;
  timeline_segments: number;
  timeline_events: number;
  wall_paint_p50_ms: number;
  wall_paint_p95_ms: number;
  wall_raw_fetch_p50_ms: number;
  wall_ratio_p50: number;
  timeline_paint_p50_ms: number;
  timeline_paint_p95_ms: number;
  timeline_raw_fetch_p50_ms: number;
  timeline_ratio_p50: number;
  timeline_markers: number;
  js_bytes: number;
  js_gzip_bytes: number;
  css_bytes: number;
  css_gzip_bytes: number;
  requests_outside_kernel: number;
}

interface PagePerf {
  performance: { getEntriesByName(n: string): Array<{ startTime: number }>; now(): number };
  fetch(u: string): Promise<{ json(): Promise<unknown> }>;
  document: { querySelectorAll(sel: string): { length: number } };
}

/** Navigates to `path` and returns the view's paint mark (ms from navigation start). */
async function paintOf(page: Page, base: string, path: string): Promise<number> {
  await page.goto(`${base}${path}`);
  const mark = `heldar:painted:${path.split('?')[0]}`;
  await page.waitForFunction(
    (m) => (globalThis as unknown as PagePerf).performance.getEntriesByName(m).length > 0,
    mark,
    { timeout: 60_000 },
  );
  return page.evaluate(
    (m) => (globalThis as unknown as PagePerf).performance.getEntriesByName(m)[0].startTime,
    mark,
  );
}

/** The raw figure: the same API JSON fetched (and parsed) with fetch() in the same page. */
function rawFetch(page: Page, urls: string[]): Promise<number> {
  return page.evaluate(async (us) => {
    const t0 = (globalThis as unknown as PagePerf).performance.now();
    await Promise.all(us.map(async (u) => (await (globalThis as unknown as PagePerf).fetch(u)).json()));
    return (globalThis as unknown as PagePerf).performance.now() - t0;
  }, urls);
}

export async function benchConsole(): Promise<ConsoleBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-console-'));
  const log = (msg: string) => console.log(`console: ${msg}`);
  const webDir = defaultWebDir(join(__dirname, '..', 'src'));
  const assets = readdirSync(join(webDir, 'assets'));
  const sizeOf = (ext: string) => {
    const file = assets.find((f) => /^app-\w+/.test(f) && f.endsWith(ext))!;
    const bytes = readFileSync(join(webDir, 'assets', file));
    return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  };
  const js = sizeOf('.js');
  const css = sizeOf('.css');
  const config = loadConfig({
    HELDAR_DATA_DIR: dir,
    HELDAR_DATABASE_URL: `sqlite://${join(dir, 'heldar.db')}`,
    HELDAR_LOG: 'warn',
    HELDAR_AUTH_ENABLED: 'false',
    HELDAR_RECORDER_ENABLED: 'false',
    HELDAR_AI_ENABLED: 'false',
    HELDAR_INDEXER_INTERVAL_S: '3600',
    HELDAR_RETENTION_INTERVAL_S: '86400',
    HELDAR_MIN_FREE_DISK_GB: '0',
  });
  const app = await createApp(config);
  let browser: Browser | undefined;
  try {
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    };
    await post('/api/v1/cameras', { id: CAMERA, name: 'Bench', segment_seconds: 60, retention_hours: 72 });
    for (let i = 1; i < WALL_CAMERAS; i++)
      await post('/api/v1/cameras', { id: `wall${i}`, name: `Wall ${i}` });
    // Yesterday (UTC), whole: 1,440 minute segments, every fifth of an hour's last one missing
    // (a few gaps to draw), and 500 events spread over the day.
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const dayMs = Date.parse(`${day}T00:00:00Z`);
    const now = new Date().toISOString();
    await app.get(TimelineRepository).insertSegments(
      Array.from({ length: SEGMENTS }, (_, i) => {
        const start = dayMs + i * 60_000;
        const len = i % 300 === 299 ? 30 : 60;
        return {
          id: `seg_${i}`,
          cameraId: CAMERA,
          path: `${CAMERA}/${day}/${i}.mp4`,
          startTime: new Date(start).toISOString(),
          endTime: new Date(start + len * 1000).toISOString(),
          durationS: len,
          codec: 'h264',
          width: 1920,
          height: 1080,
          fps: 15,
          sizeBytes: 4_000_000,
          container: 'mp4',
          locked: 0,
          evidenceLocked: false,
          incidentId: null,
          createdAt: now,
        };
      }),
    );
    const events = app.get(EventsService);
    for (let i = 0; i < EVENTS; i++)
      await events.emitExternal({
        type: i % 3 === 0 ? 'zone_cross_ab' : 'motion_detected',
        severity: i % 50 === 0 ? 'warning' : 'info',
        cameraId: CAMERA,
        timestamp: new Date(dayMs + Math.floor(((i + 0.5) / EVENTS) * 86_400_000)).toISOString(),
        payload: { n: i },
      });
    log(`${SEGMENTS} segments and ${EVENTS} events on ${day}, ${WALL_CAMERAS} cameras`);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const ctx = await browser.newContext({ timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
    const outside: string[] = [];
    const page = await ctx.newPage();
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(`${base}/`) && !u.startsWith('blob:') && !u.startsWith('data:')) outside.push(u);
    });
    const from = new Date(dayMs).toISOString();
    const to = new Date(dayMs + 86_400_000).toISOString();
    const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const timelineApi = [
      '/api/v1/cameras',
      `/api/v1/cameras/${CAMERA}/timeline?${q}`,
      `/api/v1/cameras/${CAMERA}/gaps?${q}`,
      `/api/v1/cameras/${CAMERA}/keep-windows?${q}`,
      `/api/v1/events?camera_id=${CAMERA}&limit=500`,
    ];
    const wallApi = ['/api/v1/auth/me', '/api/v1/cameras', '/api/v1/health/cameras'];
    const wall: number[] = [];
    const wallRaw: number[] = [];
    const tl: number[] = [];
    const tlRaw: number[] = [];
    let markers = 0;
    for (let i = -2; i < RUNS; i++) {
      const w = await paintOf(page, base, '/app/wall');
      const wr = await rawFetch(page, wallApi);
      const t = await paintOf(page, base, `/app/timeline/${CAMERA}?day=${day}`);
      markers = await page.evaluate(
        () => (globalThis as unknown as PagePerf).document.querySelectorAll('#track .event').length,
      );
      const tr = await rawFetch(page, ['/api/v1/auth/me', ...timelineApi]);
      if (i < 0) continue; // warm-up: the assets cached, the kernel's paths warm
      wall.push(w);
      wallRaw.push(wr);
      tl.push(t);
      tlRaw.push(tr);
    }
    const r: ConsoleBenchResult = {
      runs: RUNS,
      wall_cameras: WALL_CAMERAS,
      timeline_segments: SEGMENTS,
      timeline_events: EVENTS,
      wall_paint_p50_ms: round(pct(wall, 50), 1),
      wall_paint_p95_ms: round(pct(wall, 95), 1),
      wall_raw_fetch_p50_ms: round(pct(wallRaw, 50), 1),
      wall_ratio_p50: round(pct(wall, 50) / pct(wallRaw, 50), 1),
      timeline_paint_p50_ms: round(pct(tl, 50), 1),
      timeline_paint_p95_ms: round(pct(tl, 95), 1),
      timeline_raw_fetch_p50_ms: round(pct(tlRaw, 50), 1),
      timeline_ratio_p50: round(pct(tl, 50) / pct(tlRaw, 50), 1),
      timeline_markers: markers,
      js_bytes: js.raw,
      js_gzip_bytes: js.gzip,
      css_bytes: css.raw,
      css_gzip_bytes: css.gzip,
      requests_outside_kernel: outside.length,
    };
    if (markers !== EVENTS) throw new Error(`the timeline drew ${markers} of ${EVENTS} event markers`);
    if (outside.length) throw new Error(`requests outside the kernel: ${outside.slice(0, 5).join(', ')}`);
    return r;
  } finally {
    await browser?.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
