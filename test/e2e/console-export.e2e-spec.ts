import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb } from '../../scripts/bundle';
import { IndexerService } from '../../src/timeline/indexer.service';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { ADMIN, SITE_HOST, launchChromium, recordReal, segmentFileName } from '../support/console-browser';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/**
 * The console's second slice in a real browser (Debian's chromium via playwright-core): a line-zone
 * crossing posted through the API shows in the live feed and a click plays that moment; previous /
 * next event move the player; a range dragged on the timeline is exported, downloaded and its
 * SHA-256 checked; locked as evidence it shows in the incidents; nothing loaded from elsewhere.
 */
const SEGMENT_S = 2;

interface PageDocument {
  querySelector(sel: string): { currentTime: number; readyState: number } | null;
}
/** Functions run in the page (the console's CSP forbids evaluating strings). */
const inPage = {
  playedPast: ([sel, s]: [string, number]) => {
    const v = (globalThis as unknown as { document: PageDocument }).document.querySelector(sel);
    return !!v && v.readyState >= 2 && v.currentTime > s;
  },
};

describe(`console: events, timeline navigation, export and evidence in a real browser (${ENGINE})`, () => {
  let t: TestApp;
  let cam: TestCamera;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  /** Every request a console page made that did not go to the kernel (must stay empty). */
  const foreign: string[] = [];
  const SHOTS = process.env.HELDAR_CONSOLE_SHOTS ?? join(tmpdir(), 'heldar-console-shots');
  const work = mkdtempSync(join(tmpdir(), 'heldar-console-x-'));
  const webDir = join(work, 'web');
  let site = '';
  let adminToken = '';
  let files: string[] = [];
  /** The two crossings' times (the kernel's, from their events) and the footage around them. */
  let cross1 = 0;
  let cross2 = 0;
  let footFrom = 0;
  let footTo = 0;
  const bearer = () => ({ Authorization: `Bearer ${adminToken}` });

  const crossing = (frame: string, track: number, x: number) => ({
    camera_id: 'yard',
    task_type: 'object_detection',
    frame_id: frame,
    detections: [{ label: 'person', confidence: 0.9, track_id: track, bbox: [x - 0.05, 0.3, 0.1, 0.2] }],
  });
  /** Posts a person crossing the yard's line (left to right) as track `track`. */
  async function cross(track: number): Promise<void> {
    await t
      .http()
      .post('/api/v1/ai/events')
      .set(bearer())
      .send(crossing(`t${track}a`, track, 0.3))
      .expect(200);
    await t
      .http()
      .post('/api/v1/ai/events')
      .set(bearer())
      .send(crossing(`t${track}b`, track, 0.7))
      .expect(200);
  }
  async function zoneEvents(): Promise<Array<{ seq: number; timestamp: string; event_type: string }>> {
    return (await t.http().get('/api/v1/events?camera_id=yard&event_type=zone_*').set(bearer()).expect(200))
      .body;
  }

  beforeAll(async () => {
    await buildWeb(webDir);
    cam = await startTestCamera({ width: 320, height: 240, fps: 10 });
    const recording = recordReal(cam.url, join(work, 'rec'), 20, SEGMENT_S);
    t = await startTestApp({
      webDir,
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_LOGIN_RATE_LIMIT_PER_MIN: '0',
        HELDAR_RECORDER_ENABLED: 'false',
        HELDAR_INDEXER_INTERVAL_S: '3600',
        HELDAR_RETENTION_INTERVAL_S: '86400',
      },
    });
    adminToken = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token;
    await t
      .http()
      .post('/api/v1/cameras')
      .set(bearer())
      .send({ id: 'yard', name: 'Yard', segment_seconds: SEGMENT_S })
      .expect(201);
    await t
      .http()
      .post('/api/v1/cameras/yard/zones')
      .set(bearer())
      .send({
        name: 'Yard line',
        kind: 'line',
        polygon: [
          [0.5, 0],
          [0.5, 1],
        ],
      })
      .expect(201);
    files = (await recording).slice(1, -1);
    expect(files.length).toBeGreaterThanOrEqual(3);
    browser = await launchChromium();
    site = t.baseUrl.replace('127.0.0.1', SITE_HOST);
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
    await cam?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
    expect(foreign.splice(0)).toEqual([]);
  });

  async function newPage(viewport = { width: 1200, height: 900 }): Promise<Page> {
    const ctx = await browser.newContext({ timezoneId: 'UTC', viewport, acceptDownloads: true });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // Nothing from outside the kernel: every request is to its origin (or the page's own blobs).
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(`${site}/`) && !u.startsWith('blob:') && !u.startsWith('data:')) foreign.push(u);
    });
    page.setDefaultTimeout(20_000);
    await page.goto(`${site}/`);
    await page.locator('#signin').waitFor();
    await page.fill('#username', ADMIN.username);
    await page.fill('#password', ADMIN.password);
    await page.click('#signin button[type=submit]');
    await page.locator('#whoami').waitFor();
    return page;
  }

  const timelineUrl = (from: number, to: number) =>
    `${site}/app/timeline/yard?day=${new Date(from).toISOString().slice(0, 10)}&from=${from}&to=${to}`;
  const shownMs = async (page: Page) => Number(await page.getAttribute('#wallclock', 'data-ms'));
  /** The longest indexed segment (a recorded file is about, not exactly, SEGMENT_S long). */
  let segMaxMs = SEGMENT_S * 1000;
  /** Waits until the player shows footage and its wall clock is within a segment of `ms`. */
  async function playsAt(page: Page, ms: number): Promise<void> {
    await page.locator('#playback[data-playing]').waitFor({ timeout: 30_000 });
    await page.waitForFunction(inPage.playedPast, ['#playback', 0.2] as [string, number], {
      timeout: 30_000,
    });
    await page.locator('#wallclock[data-ms]').waitFor();
    const shown = await shownMs(page);
    expect(shown).toBeGreaterThanOrEqual(ms - segMaxMs - 500);
    expect(shown).toBeLessThanOrEqual(ms + 4000);
  }

  it('a line crossing posted through the API shows in the live feed within 2 s; filters narrow it; a click plays that moment', async () => {
    const page = await newPage();
    await page.goto(`${site}/app/events`);
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as {
            document: { getElementById(id: string): { textContent: string } | null };
          }
        ).document.getElementById('feed-state')?.textContent === 'live',
    );
    const posted = Date.now();
    await cross(1);
    const row = page.locator('#events li[data-type^=zone_cross]').first();
    await row.waitFor({ timeout: 2000 });
    expect(Date.now() - posted).toBeLessThan(2000);
    expect(await row.getAttribute('data-camera')).toBe('yard');
    // A second crossing a few seconds later (the next event to step to).
    await new Promise((r) => setTimeout(r, 2500));
    await cross(2);
    await page.locator('#events li[data-type^=zone_cross]').nth(1).waitFor({ timeout: 2000 });
    const crossings = (await zoneEvents()).filter((e) => e.event_type.startsWith('zone_cross'));
    expect(crossings).toHaveLength(2);
    [cross2, cross1] = crossings.map((e) => Date.parse(e.timestamp));

    // Filters: by type (history and live from the kernel), severity above the zone's is empty.
    await page.selectOption('#event-type', 'zone_*');
    await page.waitForURL(/event_type=zone_\*/);
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as {
            document: { getElementById(id: string): { textContent: string } | null };
          }
        ).document.getElementById('feed-state')?.textContent === 'live',
    );
    const types = await page
      .locator('#events li')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-type')));
    expect(types.length).toBeGreaterThanOrEqual(2);
    for (const ty of types) expect(ty).toMatch(/^zone_/);
    await page.selectOption('#event-severity', 'critical');
    await page.waitForURL(/severity=critical/);
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as {
            document: { getElementById(id: string): { textContent: string } | null };
          }
        ).document.getElementById('feed-state')?.textContent === 'live',
    );
    expect(await page.locator('#events li').count()).toBe(0);
    await page.selectOption('#event-severity', '');
    await page.locator('#events li').nth(1).waitFor();
    await page.screenshot({ path: join(SHOTS, 'events-filtered.png') });

    // Footage around the crossings: the recorded files placed from 3 s before the first (a file's
    // mtime is the end of its media), once in the past; a later one as the file still being
    // written (the newest is left alone), so the six before it are closed and indexed.
    const first = Math.floor(cross1 / 1000) * 1000 - 3000;
    const placed = Array.from({ length: 6 }, (_x, i) => files[i % files.length]); // whole 2 s files, reused
    const ends = placed.map((_f, i) => first + (i + 1) * SEGMENT_S * 1000);
    expect(cross2).toBeLessThan(ends[ends.length - 1] - 1000);
    while (Date.now() < ends[ends.length - 1] + 500) await new Promise((r) => setTimeout(r, 250));
    const writing = join(t.store.config.recordingsDirAbs, 'yard', segmentFileName(ends[ends.length - 1]));
    mkdirSync(dirname(writing), { recursive: true });
    copyFileSync(files[files.length - 1], writing);
    placed.forEach((f, i) => {
      const p = join(t.store.config.recordingsDirAbs, 'yard', segmentFileName(ends[i] - SEGMENT_S * 1000));
      mkdirSync(dirname(p), { recursive: true });
      copyFileSync(f, p);
      utimesSync(p, ends[i] / 1000, ends[i] / 1000);
    });
    await t.app.get(IndexerService).scanCamera('yard');
    const segs = (await t.http().get('/api/v1/cameras/yard/segments?limit=50').set(bearer()).expect(200))
      .body as Array<{ start_time: string; end_time: string }>;
    expect(segs).toHaveLength(placed.length);
    segMaxMs = Math.max(...segs.map((s) => Date.parse(s.end_time) - Date.parse(s.start_time)));
    footFrom = Math.min(...segs.map((s) => Date.parse(s.start_time)));
    footTo = Math.max(...segs.map((s) => Date.parse(s.end_time)));
    expect(footFrom).toBeLessThan(cross1);
    expect(footTo).toBeGreaterThan(cross2 + 500);

    // The click opens the moment of the first crossing on the timeline and plays it.
    await page.locator(`#events li[data-seq="${crossings[1].seq}"]`).click();
    await page.waitForURL(/\/app\/timeline\/yard\?day=\d{4}-\d\d-\d\d&at=\d+$/);
    expect(Number(new URL(page.url()).searchParams.get('at'))).toBe(cross1);
    await playsAt(page, cross1);
    expect(await page.textContent('#wallclock')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  }, 90_000);

  it('previous / next event (buttons and keys) move the player; zone events are markers; the wheel zooms', async () => {
    const page = await newPage();
    // From the footage's start: the camera's and zone's own events (set-up) are before it, so the
    // crossings are the window's only events.
    const from = footFrom;
    const to = footTo + 20_000;
    const before = (await t.http().get('/api/v1/events?camera_id=yard').set(bearer()).expect(200))
      .body as Array<{
      timestamp: string;
    }>;
    expect(before.map((e) => Date.parse(e.timestamp)).filter((ms) => ms >= from && ms < cross1)).toEqual([]);
    await page.goto(timelineUrl(from, to));
    await page.locator('#track .event.zone').nth(1).waitFor();
    expect(
      (
        await page
          .locator('#track .event.zone')
          .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-ms'))))
      ).sort(),
    ).toEqual([cross1, cross2]);
    await page.click('#next-event');
    await playsAt(page, cross1);
    await page.click('#next-event');
    await playsAt(page, cross2);
    await page.screenshot({ path: join(SHOTS, 'timeline-events.png'), fullPage: true });
    // The keyboard: [ steps back from the track.
    await page.focus('#track');
    await page.keyboard.press('[');
    await playsAt(page, cross1);
    expect(Number(await page.getAttribute('#track', 'aria-valuenow'))).toBe(cross1);
    // − zooms out with the keys (the window doubles around its centre, the focus stays on the track).
    const width = (u: URL) => Number(u.searchParams.get('to')) - Number(u.searchParams.get('from'));
    await page.keyboard.press('-');
    await page.waitForURL((u) => Math.abs(width(u) - 2 * (to - from)) <= 1);
    await page.locator('#track:focus').waitFor();
    // The wheel zooms in around the pointer.
    const box = (await page.locator('#track').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -100);
    await page.waitForURL((u) => width(u) < 2 * (to - from) - 1000);
  }, 90_000);

  it('a range dragged on the timeline is exported (progress, download, SHA-256 = the bytes’ = the API’s), locked as evidence, listed under its incident', async () => {
    const page = await newPage();
    const from = footFrom - 5000;
    const to = footTo + 5000;
    await page.goto(timelineUrl(from, to));
    await page.locator('#track .range').first().waitFor();
    const box = (await page.locator('#track').boundingBox())!;
    const x = (ms: number) => box.x + ((ms - from) / (to - from)) * box.width;
    const a = footFrom + 1000;
    const b = footTo - 1000;
    await page.mouse.move(x(a), box.y + 10);
    await page.mouse.down();
    await page.mouse.move(x((a + b) / 2), box.y + 10, { steps: 4 });
    await page.mouse.move(x(b), box.y + 10, { steps: 4 });
    await page.mouse.up();
    expect(await page.isVisible('#selection')).toBe(true);
    const inputMs = async (sel: string) => Date.parse(`${await page.inputValue(sel)}Z`);
    const pxMs = (to - from) / box.width;
    expect(Math.abs((await inputMs('#export-from')) - a)).toBeLessThan(2 * pxMs + 1000);
    expect(Math.abs((await inputMs('#export-to')) - b)).toBeLessThan(2 * pxMs + 1000);

    // The kernel's answer held back a moment: the progress shows while the clip is cut.
    await page.route('**/api/v1/cameras/yard/clip', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await page.click('#export-clip');
    await page.locator('#export-progress progress').waitFor({ timeout: 1000 });
    expect(await page.isDisabled('#export-clip')).toBe(true);
    await page.locator('#clip-sha').waitFor({ timeout: 60_000 });
    await page.unroute('**/api/v1/cameras/yard/clip');
    const shown = (await page.textContent('#clip-sha'))!;
    expect(shown).toMatch(/^[0-9a-f]{64}$/);
    const clipId = (await page.getAttribute('#clip', 'data-clip'))!;
    const apiClip = (await t.http().get(`/api/v1/clips/${clipId}`).set(bearer()).expect(200)).body as {
      sha256: string;
      size_bytes: number;
    };
    expect(apiClip.sha256).toBe(shown);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#clip-download')]);
    const bytes = readFileSync(await download.path());
    expect(bytes.length).toBe(apiClip.size_bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(shown);
    await page.screenshot({ path: join(SHOTS, 'export.png'), fullPage: true });

    await page.fill('#incident-id', 'case-42');
    await page.click('#lock-evidence');
    await page.locator('#lock-status a[href="/app/incidents"]').waitFor();
    expect(await page.textContent('#lock-status')).toMatch(
      /incident case-42: the clip and [1-9]\d* recorded segment\(s\)/,
    );
    expect(
      (await t.http().get(`/api/v1/clips/${clipId}`).set(bearer()).expect(200)).body.evidence_locked,
    ).toBe(true);
    await page.click('#lock-status a[href="/app/incidents"]');
    const inc = page.locator('#incidents tr[data-incident=case-42]');
    await inc.waitFor();
    const api = (await t.http().get('/api/v1/incidents').set(bearer()).expect(200)).body as Array<{
      incident_id: string;
      segment_count: number;
    }>;
    expect(api.map((i) => i.incident_id)).toEqual(['case-42']);
    expect(await inc.locator('td').nth(1).textContent()).toBe(String(api[0].segment_count));
    expect(await page.locator(`#clips tr[data-clip=${clipId}] td`).nth(4).textContent()).toBe('locked');
    await inc.locator('button').click();
    await page.locator('#incident-detail li').first().waitFor();
    expect(await page.locator('#incident-detail li').count()).toBe(api[0].segment_count);
    await page.screenshot({ path: join(SHOTS, 'incidents.png'), fullPage: true });

    // An API refusal is shown with its message (a clip over one hour).
    await page.goto(timelineUrl(from, to));
    await page.fill('#export-from', new Date(footFrom - 2 * 3_600_000).toISOString().slice(0, 19));
    await page.fill('#export-to', new Date(footFrom).toISOString().slice(0, 19));
    await page.click('#export-clip');
    const refused = (
      await t
        .http()
        .post('/api/v1/cameras/yard/clip')
        .set(bearer())
        .send({
          from: new Date(footFrom - 2 * 3_600_000).toISOString(),
          to: new Date(footFrom).toISOString(),
        })
    ).body as { error: string; code: string };
    expect(refused.code).toBeTruthy();
    await page.locator('#export-result [role=alert]').waitFor();
    expect(await page.textContent('#export-result [role=alert]')).toBe(
      `Error: ${refused.error} (${refused.code})`,
    );
  }, 120_000);

  it('at phone width the timeline fits the screen and still plays from a tap', async () => {
    const page = await newPage({ width: 390, height: 844 });
    await page.goto(timelineUrl(footFrom, footTo + 5000));
    await page.locator('#track .range').first().waitFor();
    // Nothing sticks out past the screen's right edge (no sideways scrolling).
    const overflowing = await page.evaluate(() => {
      interface El {
        tagName: string;
        id: string;
        className: string;
        getBoundingClientRect(): { right: number };
      }
      const w = globalThis as unknown as {
        innerWidth: number;
        document: { querySelectorAll(s: string): El[] };
      };
      return Array.from(w.document.querySelectorAll('body *'))
        .filter((e) => e.getBoundingClientRect().right > w.innerWidth + 1)
        .map((e) => `${e.tagName}#${e.id}.${e.className}`);
    });
    expect(overflowing).toEqual([]);
    await page.click('#next-event');
    await playsAt(page, cross1);
    await page.screenshot({ path: join(SHOTS, 'timeline-phone.png'), fullPage: true });
  }, 60_000);
});
