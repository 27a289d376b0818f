import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb } from '../../scripts/bundle';
import { IndexerService } from '../../src/timeline/indexer.service';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import {
  ADMIN,
  SITE_HOST,
  VIEWER,
  launchChromium,
  recordReal,
  segmentFileName,
  signIn,
} from '../support/console-browser';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/**
 * The operator console in a real browser (Debian's chromium driven by playwright-core) against the
 * real kernel and the RTSP test camera: sign-in, the live wall playing, the timeline's ranges and
 * gaps, playback from a click with its wall-clock time, the event feed, roles, API errors.
 */
const SEGMENT_S = 2;

/** What the page functions below touch of the DOM (the test's own types know no DOM). */
interface PageVideo {
  currentTime: number;
  readyState: number;
  videoWidth: number;
  videoHeight: number;
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    drawImage(v: PageVideo, x: number, y: number): void;
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
interface PageDocument {
  querySelector(sel: string): (PageVideo & { textContent: string | null }) | null;
  createElement(tag: 'canvas'): PageCanvas;
}

/** Functions run in the page (as functions: the console's CSP forbids evaluating strings). */
const inPage = {
  time: (sel: string) =>
    (globalThis as unknown as { document: PageDocument }).document.querySelector(sel)?.currentTime ?? -1,
  playedPast: ([sel, s]: [string, number]) => {
    const v = (globalThis as unknown as { document: PageDocument }).document.querySelector(sel);
    return !!v && v.readyState >= 2 && v.currentTime > s;
  },
  text: ([sel, want]: [string, string]) =>
    (globalThis as unknown as { document: PageDocument }).document.querySelector(sel)?.textContent === want,
  /** Share of the current frame's pixels that are bright (luma > 128), read through a canvas. */
  brightShare: (sel: string) => {
    const v = (globalThis as unknown as { document: PageDocument }).document.querySelector(sel)!;
    const c = (globalThis as unknown as { document: PageDocument }).document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let bright = 0;
    for (let i = 0; i < px.length; i += 4)
      if (0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2] > 128) bright++;
    return bright / (px.length / 4);
  },
};

describe(`operator console in a real browser (${ENGINE})`, () => {
  let t: TestApp;
  let cam: TestCamera;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Uncaught exceptions in the console's pages: there must be none. */
  const pageErrors: string[] = [];
  /** Screenshots of each view (not committed; the README's are taken from here). */
  const SHOTS = process.env.HELDAR_CONSOLE_SHOTS ?? join(tmpdir(), 'heldar-console-shots');
  const work = mkdtempSync(join(tmpdir(), 'heldar-console-'));
  const webDir = join(work, 'web');

  let gapStartMs = 0;
  let gapEndMs = 0;
  /** Where the indexer placed the footage (from each file's probe and mtime). */
  let firstMs = 0;
  /** The kernel's URL as the browser sees it. */
  let site = '';
  let lastMs = 0;
  let adminToken = '';
  const bearer = () => ({ Authorization: `Bearer ${adminToken}` });

  beforeAll(async () => {
    await buildWeb(webDir);
    cam = await startTestCamera({ width: 320, height: 240, fps: 10, sub: { width: 160, height: 120 } });
    const recording = recordReal(cam.url, join(work, 'rec'), 17, SEGMENT_S);
    t = await startTestApp({
      webDir,
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_LOGIN_RATE_LIMIT_PER_MIN: '0',
        HELDAR_RECORDER_ENABLED: 'false',
        HELDAR_AI_ENABLED: 'false',
        HELDAR_INDEXER_INTERVAL_S: '3600',
        HELDAR_RETENTION_INTERVAL_S: '86400',
      },
    });
    adminToken = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token;
    await t
      .http()
      .post('/api/v1/cameras')
      .set(bearer())
      .send({ id: 'gate', name: 'Gate', main_stream_url: cam.url, sub_stream_url: cam.subUrl })
      .expect(201);
    await t
      .http()
      .post('/api/v1/cameras')
      .set(bearer())
      .send({ id: 'yard', name: 'Yard', segment_seconds: SEGMENT_S })
      .expect(201);
    await t
      .http()
      .post('/api/v1/users')
      .set(bearer())
      .send({ ...VIEWER, role: 'viewer' })
      .expect(201);
    // Real footage for `yard`: three whole 2 s files, a 7 s hole, two more, ten minutes ago.
    const files = (await recording).slice(1, -1);
    expect(files.length).toBeGreaterThanOrEqual(5);
    const T0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
    const at = (i: number) => T0 + i * 2000 + (i >= 3 ? 7000 : 0);
    files.slice(0, 5).forEach((f, i) => {
      const p = join(t.store.config.recordingsDirAbs, 'yard', segmentFileName(at(i)));
      mkdirSync(dirname(p), { recursive: true });
      copyFileSync(f, p);
      utimesSync(p, (at(i) + 30_000) / 1000, (at(i) + 30_000) / 1000);
    });
    await t.app.get(IndexerService).scanCamera('yard');
    const segs = (await t.http().get('/api/v1/cameras/yard/segments?limit=50').set(bearer()).expect(200))
      .body as Array<{ start_time: string; end_time: string }>;
    expect(segs).toHaveLength(5);
    gapStartMs = Date.parse(segs[2].end_time);
    gapEndMs = Date.parse(segs[3].start_time);
    firstMs = Date.parse(segs[0].start_time);
    lastMs = Date.parse(segs[4].end_time);
    // The console is opened as a LAN user would: by a name that is not localhost (so not a
    // "potentially trustworthy" origin to the browser), over plain http.
    browser = await launchChromium();
    site = t.baseUrl.replace('127.0.0.1', SITE_HOST);
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close(); // every context and page with it: no chromium outlives the suite
    await t?.close();
    await cam?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  /** A fresh browser profile (its own cookies), in UTC so the day on the timeline is known. */
  async function newPage(): Promise<Page> {
    const ctx = await browser.newContext({ timezoneId: 'UTC', viewport: { width: 1200, height: 900 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.setDefaultTimeout(20_000);
    return page;
  }

  it('is served at / and /app/… from the build (index no-cache, hashed assets immutable); without a build, a clear 404 and the API runs on', async () => {
    const index = await t.http().get('/').expect(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['cache-control']).toBe('no-cache');
    const js = /src="\/assets\/(app-\w+\.js)"/.exec(index.text)![1];
    const css = /href="\/assets\/(app-\w+\.css)"/.exec(index.text)![1];
    const deep = await t.http().get('/app/timeline/yard?day=2026-01-01').expect(200);
    expect(deep.text).toBe(index.text);
    const asset = await t.http().get(`/assets/${js}`).expect(200);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.text).toContain('hls'); // hls.js bundled: nothing from a CDN
    expect(asset.text).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs)\./);
    await t.http().get(`/assets/${css}`).expect(200).expect('content-type', 'text/css; charset=utf-8');
    await t.http().get('/assets/app-NOPE1234.js').expect(404);
    // The API, its docs and a POST to / are not the console's.
    await t.http().get('/api/v1/cameras').set(bearer()).expect(200);
    await t.http().get('/openapi.json').expect(200);
    await t.http().post('/').expect(404);

    renameSync(join(webDir, 'index.html'), join(webDir, 'index.off'));
    try {
      const missing = await t.http().get('/').expect(404);
      expect(missing.body).toEqual({
        error: expect.stringContaining('the operator console is not built'),
        code: 'CONSOLE_NOT_BUILT',
      });
      expect(missing.body.error).toContain('npm run build');
      await t.http().get('/app/wall').expect(404);
      await t.http().get('/healthz').expect(200);
    } finally {
      renameSync(join(webDir, 'index.off'), join(webDir, 'index.html'));
    }
  });

  it('signs in, shows who is signed in, lists the cameras on the live wall and a tile plays the live view (time advances, picture not black)', async () => {
    const page = await newPage();
    await signIn(page, site, ADMIN);
    expect(await page.textContent('#whoami')).toBe('root · admin');
    expect(new URL(page.url()).pathname).toBe('/app/wall');
    await page.locator('.tile').nth(1).waitFor();
    expect(
      await page.locator('.tile').evaluateAll((els) => els.map((e) => e.getAttribute('data-camera'))),
    ).toEqual(['gate', 'yard']);
    const GATE = 'video[data-camera=gate]';
    await page.waitForFunction(inPage.playedPast, [GATE, 0.5] as [string, number], { timeout: 45_000 });
    const t1 = await page.evaluate(inPage.time, GATE);
    await page.waitForTimeout(2000);
    const t2 = await page.evaluate(inPage.time, GATE);
    expect(t2).toBeGreaterThan(t1 + 0.5);
    // A decoded frame read through a canvas is the test pattern (a white ball on black), not black.
    const bright = await page.evaluate(inPage.brightShare, GATE);
    expect(bright).toBeGreaterThan(0.005);
    await page.screenshot({ path: join(SHOTS, 'wall.png') });
    // The placeholder is gone from the playing tile; `yard` (no stream URL) shows one with its reason.
    expect(await page.isHidden('.tile[data-camera=gate] .placeholder')).toBe(true);
    await page.locator('.tile[data-camera=yard] .placeholder').waitFor();
    // Click enlarges.
    await page.click('.tile[data-camera=gate] .name');
    expect(await page.getAttribute('.tile[data-camera=gate]', 'class')).toContain('enlarged');
    // An admin sees the admin controls.
    expect(await page.locator('[data-admin]').count()).toBeGreaterThan(0);
  }, 90_000);

  it('the timeline shows the recorded ranges and the gap; a click plays the footage from there with its wall-clock time', async () => {
    const page = await newPage();
    await signIn(page, site, ADMIN);
    const day = new Date(firstMs).toISOString().slice(0, 10);
    await page.goto(`${site}/app/timeline/yard?day=${day}`);
    await page.locator('#track').waitFor();
    // The whole day: the two recorded ranges; gaps (before, between, after) each with its cause.
    expect(await page.locator('#track .range').count()).toBe(2);
    const causes = await page
      .locator('#track .gap')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-cause')));
    expect(causes.length).toBeGreaterThanOrEqual(1);
    for (const c of causes)
      expect([
        'camera_offline',
        'recorder_stopped',
        'server_down',
        'storage_error',
        'not_scheduled',
        'no_event',
        'unknown',
      ]).toContain(c);
    expect(await page.textContent('#summary')).toMatch(
      /^2 recorded range\(s\), \d+ s recorded, \d+ gap\(s\)$/,
    );
    // Zoomed to the footage (from/to in the URL), click two seconds into the first range.
    const from = firstMs - 5000;
    const to = lastMs + 5000;
    await page.goto(`${site}/app/timeline/yard?day=${day}&from=${from}&to=${to}`);
    await page.locator('#track .range').nth(1).waitFor();
    const box = (await page.locator('#track').boundingBox())!;
    // The 7 s hole is drawn where it is: a gap between the two ranges, as wide as the hole.
    const r0 = (await page.locator('#track .range').nth(0).boundingBox())!;
    const r1 = (await page.locator('#track .range').nth(1).boundingBox())!;
    const between = [];
    for (const g of await page.locator('#track .gap').all()) {
      const gb = (await g.boundingBox())!;
      if (gb.x >= r0.x + r0.width - 2 && gb.x + gb.width <= r1.x + 2) between.push(gb);
    }
    expect(between).toHaveLength(1);
    const wantPx = ((gapEndMs - gapStartMs) / (to - from)) * box.width;
    expect(Math.abs(between[0].width - wantPx)).toBeLessThan(3);
    const clickMs = firstMs + 2000;
    await page.mouse.click(box.x + ((clickMs - from) / (to - from)) * box.width, box.y + box.height / 2);
    await page.waitForFunction(inPage.playedPast, ['#playback', 0.5] as [string, number], {
      timeout: 30_000,
    });
    const c1 = await page.evaluate(inPage.time, '#playback');
    await page.waitForTimeout(1500);
    const c2 = await page.evaluate(inPage.time, '#playback');
    expect(c2).toBeGreaterThan(c1 + 0.3);
    // The wall clock under the video is the footage's own time (PROGRAM-DATE-TIME): within a
    // segment of the click, moving on with the video.
    const shownMs = Number(await page.getAttribute('#wallclock', 'data-ms'));
    expect(shownMs).toBeGreaterThanOrEqual(clickMs - SEGMENT_S * 1000 - 500);
    expect(shownMs).toBeLessThanOrEqual(clickMs + 6000);
    await page.screenshot({ path: join(SHOTS, 'timeline.png'), fullPage: true });
    expect(await page.textContent('#wallclock')).toMatch(new RegExp(`^${day} \\d\\d:\\d\\d:\\d\\d$`));
  }, 90_000);

  it('the event feed shows a new event live (SSE) and a click opens that moment on the timeline', async () => {
    const page = await newPage();
    await signIn(page, site, ADMIN);
    await page.goto(`${site}/app/events`);
    await page.waitForFunction(inPage.text, ['#feed-state', 'live'] as [string, string]);
    await t
      .http()
      .post('/api/v1/cameras')
      .set(bearer())
      .send({ id: 'porch', name: 'Porch', enabled: false })
      .expect(201);
    const row = page.locator('#events li[data-camera=porch]').first();
    await row.waitFor({ timeout: 5000 });
    expect(await row.locator('.type').textContent()).toBe('camera_created');
    await page.screenshot({ path: join(SHOTS, 'events.png') });
    await row.click();
    await page.waitForURL(/\/app\/timeline\/porch\?day=\d{4}-\d\d-\d\d&at=\d+$/);
    await t.http().delete('/api/v1/cameras/porch').set(bearer());
  }, 60_000);

  it('a viewer sees no admin control; sign-out ends the session', async () => {
    const page = await newPage();
    await signIn(page, site, VIEWER);
    expect(await page.textContent('#whoami')).toBe('watcher · viewer');
    await page.locator('.tile[data-camera=gate]').waitFor();
    expect(await page.locator('[data-admin]').count()).toBe(0);
    expect(await page.locator('text=API (admin)').count()).toBe(0);
    await page.click('#signout');
    await page.locator('#signin').waitFor();
    expect(await page.evaluate(async () => (await fetch('/api/v1/auth/me')).status)).toBe(401);
  }, 60_000);

  it('an API error is shown with its message, never a blank page (unknown camera; wrong password)', async () => {
    const page = await newPage();
    await page.goto(`${site}/`);
    await page.locator('#signin').waitFor();
    await page.fill('#username', ADMIN.username);
    await page.fill('#password', 'not-the-password');
    await page.click('#signin button[type=submit]');
    const refused = (
      await t
        .http()
        .post('/api/v1/auth/login')
        .send({ ...ADMIN, password: 'x' })
    ).body as {
      error: string;
      code: string;
    };
    await page.locator('#signin [role=alert]').waitFor();
    expect(await page.textContent('#signin [role=alert]')).toBe(`Error: ${refused.error} (${refused.code})`);
    await page.screenshot({ path: join(SHOTS, 'signin.png') });

    await signIn(page, site, ADMIN);
    await page.goto(`${site}/app/timeline/nope`);
    const api = (await t.http().get('/api/v1/cameras/nope/timeline').set(bearer()).expect(404)).body as {
      error: string;
      code: string;
    };
    await page.locator('#view [role=alert]').waitFor();
    expect(await page.textContent('#view [role=alert]')).toBe(`Error: ${api.error} (${api.code})`);
  }, 60_000);
});
