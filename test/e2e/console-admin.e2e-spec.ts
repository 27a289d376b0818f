import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb } from '../../scripts/bundle';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { ADMIN, SITE_HOST, VIEWER, launchChromium, signIn } from '../support/console-browser';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/**
 * The console's admin pages in a real browser (Debian's chromium via playwright-core) against the
 * real kernel and the RTSP test camera: add a camera and test its connection, draw a line zone on
 * its snapshot, mint an API key (secret shown once), a webhook's delivery ledger, a sidecar's menu
 * entry, retention and health; a viewer sees none of it, a camera-scoped key only its cameras.
 */

/** A loopback HTTP server: a webhook receiver and a sidecar at once. */
class Peer {
  readonly hooks: Array<{ type: string }> = [];
  private server!: Server;
  port = 0;
  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (req.url === '/heldar/health') return void res.writeHead(200).end();
        if (req.url === '/hook' || req.url === '/heldar/events') {
          if (body) this.hooks.push(JSON.parse(body) as { type: string });
          return void res.writeHead(204).end();
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><h1 id="sidecar">Reports sidecar at ${req.url}</h1>`);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

/** What the page functions below touch of the DOM (the test's own types know no DOM). */
interface PageImage {
  complete: boolean;
  naturalWidth: number;
}
const imgLoaded = (sel: string) => {
  const img = (
    globalThis as unknown as { document: { querySelector(s: string): PageImage | null } }
  ).document.querySelector(sel);
  return !!img && img.complete && img.naturalWidth > 0;
};

describe(`console admin pages in a real browser (${ENGINE})`, () => {
  let t: TestApp;
  let cam: TestCamera;
  let peer: Peer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  const SHOTS = process.env.HELDAR_CONSOLE_SHOTS ?? join(tmpdir(), 'heldar-console-shots');
  const work = mkdtempSync(join(tmpdir(), 'heldar-console-admin-'));
  let site = '';
  let bearer: Record<string, string> = {};

  beforeAll(async () => {
    const webDir = join(work, 'web');
    const [, camera, p] = await Promise.all([
      buildWeb(webDir),
      startTestCamera({ width: 320, height: 240, fps: 10 }),
      (async () => {
        const x = new Peer();
        await x.start();
        return x;
      })(),
    ]);
    cam = camera;
    peer = p;
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
        HELDAR_MODULE_HEALTH_INTERVAL_S: '3600',
        HELDAR_WEBHOOK_RETRY_SCHEDULE_S: '0.3,0.3',
      },
    });
    const token = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token as string;
    bearer = { Authorization: `Bearer ${token}` };
    await t.http().post('/api/v1/cameras').set(bearer).send({ id: 'yard', name: 'Yard' }).expect(201);
    browser = await launchChromium();
    site = t.baseUrl.replace('127.0.0.1', SITE_HOST);
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
    await cam?.stop();
    await peer?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  async function newPage(cookie?: string): Promise<Page> {
    const ctx = await browser.newContext({ timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
    contexts.push(ctx);
    if (cookie)
      await ctx.addCookies([
        {
          name: 'heldar_session',
          value: cookie,
          domain: SITE_HOST,
          path: '/',
          httpOnly: true,
          sameSite: 'Strict',
        },
      ]);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.setDefaultTimeout(20_000);
    return page;
  }

  let admin: Page;

  it('an admin adds the RTSP test camera through the form (an API error is shown with its message) and "test connection" shows its codec and resolution', async () => {
    admin = await newPage();
    await signIn(admin, site, ADMIN);
    await admin.click('nav.top a[data-admin=admin]');
    await admin.locator('#camera-form').waitFor();
    expect(new URL(admin.url()).pathname).toBe('/app/admin/cameras');
    // The vendor template's URL shape is shown for the vendor picked.
    await admin.selectOption('#cam-vendor', 'hikvision');
    expect(await admin.textContent('#vendor-shape')).toContain('/Streaming/Channels/{channel}01');
    await admin.selectOption('#cam-vendor', 'generic');

    await admin.fill('#cam-name', 'Front door');
    await admin.fill('#cam-id', 'door');
    await admin.fill('#cam-main', 'ftp://nope');
    await admin.click('#camera-form button[type=submit]');
    const refused = (
      await t
        .http()
        .post('/api/v1/cameras')
        .set(bearer)
        .send({ name: 'x', main_stream_url: 'ftp://nope' })
        .expect(400)
    ).body as { error: string; code: string };
    await admin.locator('#cameras-status [role=alert]').waitFor();
    expect(await admin.textContent('#cameras-status [role=alert]')).toBe(
      `Error: ${refused.error} (${refused.code})`,
    );

    await admin.fill('#cam-main', cam.url);
    await admin.click('#camera-form button[type=submit]');
    await admin.locator('#camera-list tr[data-camera=door]').waitFor();
    const made = (await t.http().get('/api/v1/cameras/door').set(bearer).expect(200)).body;
    expect(made).toMatchObject({ name: 'Front door', vendor: 'generic', main_stream_url: cam.url });

    await admin.click('button[data-test=door]');
    const result = admin.locator('#test-door.ok');
    await result.waitFor({ timeout: 30_000 });
    expect(await result.getAttribute('data-width')).toBe('320');
    expect(await result.getAttribute('data-height')).toBe('240');
    const probe = (await t.http().post('/api/v1/cameras/door/test').set(bearer).expect(200)).body;
    expect(await result.getAttribute('data-codec')).toBe(probe.codec);
    expect(await result.textContent()).toMatch(new RegExp(`^${probe.codec} 320×240`));
    await admin.screenshot({ path: join(SHOTS, 'admin-cameras.png'), fullPage: true });

    // Edit: the name changes through PATCH; the list shows it.
    await admin.click('button[data-edit=door]');
    await admin.fill('#cam-name', 'Front gate');
    await admin.click('#camera-form button[type=submit]');
    await admin.locator('#camera-list tr[data-camera=door] >> text=Front gate').waitFor();
  }, 60_000);

  it('draws a line zone on the camera snapshot; the API lists it with those points', async () => {
    await admin.goto(`${site}/app/admin/zones/door`);
    await admin.waitForFunction(imgLoaded, '#zone-snapshot', { timeout: 30_000 });
    await admin.fill('#zone-name', 'Doorstep');
    await admin.selectOption('#zone-kind', 'line');
    const box = (await admin.locator('#zone-stage').boundingBox())!;
    await admin.mouse.click(box.x + 0.2 * box.width, box.y + 0.5 * box.height);
    await admin.mouse.click(box.x + 0.8 * box.width, box.y + 0.25 * box.height);
    expect(await admin.locator('#draft circle').count()).toBe(2);
    await admin.click('#zone-form button[type=submit]');
    await admin.locator('#zone-list tr').first().waitFor();
    const zones = (await t.http().get('/api/v1/cameras/door/zones').set(bearer).expect(200)).body as Array<{
      id: string;
      name: string;
      kind: string;
      polygon: Array<[number, number]>;
    }>;
    expect(zones).toHaveLength(1);
    expect(zones[0]).toMatchObject({ name: 'Doorstep', kind: 'line' });
    const [[x1, y1], [x2, y2]] = zones[0].polygon;
    for (const [got, want] of [
      [x1, 0.2],
      [y1, 0.5],
      [x2, 0.8],
      [y2, 0.25],
    ])
      expect(Math.abs(got - want)).toBeLessThan(0.01);
    // Drawn over the picture, listed below it.
    await admin.locator(`#zone-stage polyline[data-zone="${zones[0].id}"]`).waitFor();
    await admin.screenshot({ path: join(SHOTS, 'admin-zones.png'), fullPage: true });
    // A polygon with too few points is refused on the page with the reason.
    await admin.fill('#zone-name', 'Porch');
    await admin.selectOption('#zone-kind', 'region');
    await admin.click('#zone-clear');
    await admin.mouse.click(box.x + 10, box.y + 10);
    await admin.click('#zone-form button[type=submit]');
    expect(await admin.textContent('#zones-status [role=alert]')).toBe(
      'Error: a polygon needs at least 3 points',
    );
  }, 60_000);

  it('creates a user and an API key; the key is shown once (not after a reload) and works', async () => {
    await admin.goto(`${site}/app/admin/access`);
    await admin.fill('#user-name', VIEWER.username);
    await admin.fill('#user-pass', VIEWER.password);
    await admin.selectOption('#user-role', 'viewer');
    await admin.click('#user-form button[type=submit]');
    await admin.locator(`#user-list tr[data-user=${VIEWER.username}]`).waitFor();

    await admin.fill('#key-name', 'nightly-export');
    await admin.click('#key-form button[type=submit]');
    const secret = (await admin.locator('#new-key-secret').textContent())!;
    expect(secret).toMatch(/^vok_/);
    await admin.locator('#key-list tr[data-key=nightly-export]').waitFor();
    await t.http().get('/api/v1/cameras').set('X-API-Key', secret).expect(200);
    await admin.screenshot({ path: join(SHOTS, 'admin-access.png'), fullPage: true });

    await admin.reload();
    await admin.locator('#key-list tr[data-key=nightly-export]').waitFor();
    expect(await admin.locator('#new-key-secret').count()).toBe(0);
    expect(await admin.content()).not.toContain(secret);
    expect(await admin.textContent('#key-list tr[data-key=nightly-export]')).toContain(secret.slice(0, 12));
  }, 60_000);

  it('a webhook created on the page shows its delivery ledger', async () => {
    await admin.goto(`${site}/app/admin/webhooks`);
    await admin.fill('#hook-url', `${peer.origin}/hook`);
    await admin.fill('#hook-types', 'camera_*');
    await admin.click('#webhook-form button[type=submit]');
    expect(await admin.locator('#new-webhook-secret').textContent()).toMatch(/^whsec_/);
    const hooks = (await t.http().get('/api/v1/webhooks').set(bearer).expect(200)).body as Array<{
      id: string;
    }>;
    expect(hooks).toHaveLength(1);
    await t
      .http()
      .post('/api/v1/cameras')
      .set(bearer)
      .send({ id: 'shed', name: 'Shed', enabled: false })
      .expect(201);
    await admin.click(`button[data-ledger="${hooks[0].id}"]`);
    // The ledger refreshes itself: the delivery of camera_created turns up delivered.
    await admin
      .locator('#delivery-list tr[data-event-type=camera_created][data-status=delivered]')
      .waitFor({ timeout: 20_000 });
    expect(peer.hooks.map((h) => h.type)).toContain('camera_created');
    expect(new URL(admin.url()).pathname).toBe(`/app/admin/webhooks/${hooks[0].id}`);
    await admin.screenshot({ path: join(SHOTS, 'admin-webhooks.png'), fullPage: true });
  }, 60_000);

  it('a sidecar registered on the page gets its menu entry, which opens /m/{id}/', async () => {
    await admin.goto(`${site}/app/admin/modules`);
    await admin.fill('#mod-id', 'reports');
    await admin.fill('#mod-name', 'Reports');
    await admin.fill('#mod-base', peer.origin);
    await admin.fill('#mod-nav-label', 'Daily reports');
    await admin.click('#module-form button[type=submit]');
    expect(await admin.locator('#new-module-key').textContent()).toMatch(/^vok_/);
    await admin.goto(`${site}/app/admin/modules`);
    await admin.locator('#module-list tr[data-module=reports]').waitFor();
    await admin.screenshot({ path: join(SHOTS, 'admin-modules.png'), fullPage: true });
    const entry = admin.locator('#sidecar-nav a[data-module=reports]');
    expect(await entry.textContent()).toBe('Daily reports');
    await entry.click();
    await admin.waitForURL(`${site}/m/reports/`);
    expect(await admin.textContent('#sidecar')).toBe('Reports sidecar at /');
  }, 60_000);

  it('retention draws the forecast chart (a bar per camera) and health shows version, disk and cameras', async () => {
    await admin.goto(`${site}/app/admin/retention`);
    const forecast = (await t.http().get('/api/v1/system/retention').set(bearer).expect(200)).body
      .forecast as {
      cameras: Array<{ camera_id: string }>;
    };
    await admin.locator('#forecast-chart').waitFor();
    expect(
      await admin
        .locator('#forecast-chart g.bar')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-camera'))),
    ).toEqual(['_store', ...forecast.cameras.map((c) => c.camera_id)]);
    await admin.screenshot({ path: join(SHOTS, 'admin-retention.png'), fullPage: true });
    await admin.goto(`${site}/app/admin/health`);
    await admin.locator('#camera-health tr[data-camera=door]').waitFor();
    expect(await admin.textContent('#version')).toMatch(/^Heldar Core \d+\.\d+\.\d+/);
    expect(await admin.textContent('#disk')).toMatch(/% used/);
    await admin.screenshot({ path: join(SHOTS, 'admin-health.png'), fullPage: true });
  }, 60_000);

  it('a viewer sees no admin entry, no sidecar entry, and the admin pages refuse with a message', async () => {
    const page = await newPage();
    await signIn(page, site, VIEWER);
    await page.locator('.tile').first().waitFor();
    expect(await page.locator('[data-admin]').count()).toBe(0);
    expect(await page.locator('a[href^="/app/admin"]').count()).toBe(0);
    expect(await page.locator('a[data-module]').count()).toBe(0);
    await page.goto(`${site}/app/admin/cameras`);
    await page.locator('#view [role=alert]').waitFor();
    expect(await page.textContent('#view [role=alert]')).toContain('the admin pages need the admin role');
    expect(await page.locator('#camera-form').count()).toBe(0);
  }, 60_000);

  it("a camera-scoped key's holder sees only its cameras, and no admin entry", async () => {
    const key = (
      await t
        .http()
        .post('/api/v1/api-keys')
        .set(bearer)
        .send({
          name: 'yard-only',
          capabilities: ['camera:read', 'video:live'],
          scope_kind: 'cameras',
          scope_cameras: ['yard'],
        })
        .expect(201)
    ).body.key as string;
    const page = await newPage(key);
    await page.goto(`${site}/app/wall`);
    await page.locator('.tile').first().waitFor();
    expect(await page.textContent('#whoami')).toBe('yard-only · integration');
    expect(
      await page.locator('.tile').evaluateAll((els) => els.map((e) => e.getAttribute('data-camera'))),
    ).toEqual(['yard']);
    expect(await page.locator('[data-admin]').count()).toBe(0);
    expect(await page.locator('a[data-module]').count()).toBe(0);
  }, 60_000);
});
