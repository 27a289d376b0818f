import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { buildWeb } from '../../scripts/bundle';
import { ADMIN, SITE_HOST, launchChromium } from '../support/console-browser';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/**
 * The live wall with MediaMTX configured, in a real browser: the tile offers WebRTC (WHEP) to
 * MediaMTX's WebRTC server with a token the kernel's auth callback accepts, the console's CSP lets
 * that request out, and when the server refuses, the tile falls back to HLS with the reason.
 * MediaMTX is a double here (not installable): its control API answers the path calls, its WebRTC
 * origin records the WHEP request; it has no WebRTC stack, so no session is ever completed.
 */
/** A site name the browser resolves to 127.0.0.1: the loopback MediaMTX bases follow it. */

interface Whep {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

/** MediaMTX's control API (paths get/add) and its WebRTC/HLS servers' origin, on one port. */
class MediaMtxDouble {
  readonly wheps: Whep[] = [];
  /** The WHEP answer the next offer gets (status), released by the test. */
  whepStatus = 500;
  private release: (() => void) | null = null;
  private held = new Promise<void>((r) => (this.release = r));
  private paths = new Set<string>();
  /** The HLS playlists asked for (MediaMTX's HLS server: a port of its own). */
  readonly hlsGets: string[] = [];
  private server!: Server;
  private hlsServer!: Server;
  port = 0;
  hlsPort = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    this.hlsServer = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.hlsServer.listen(0, '127.0.0.1', r));
    this.hlsPort = (this.hlsServer.address() as { port: number }).port;
  }

  /** Lets the held WHEP answer go out. */
  answer(status: number): void {
    this.whepStatus = status;
    this.release?.();
  }

  async stop(): Promise<void> {
    this.release?.();
    this.server.closeAllConnections();
    this.hlsServer.closeAllConnections();
    await new Promise((r) => this.hlsServer.close(r));
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const c of req) body += String(c);
    const url = req.url ?? '';
    // MediaMTX answers the browser's CORS preflight for its WebRTC and HLS servers.
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'OPTIONS, GET, POST, PATCH, DELETE',
      'access-control-allow-headers': 'Authorization, Content-Type, If-Match',
      'access-control-expose-headers': 'Link, Location',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return void res.end();
    }
    const json = (status: number, v: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', ...cors });
      res.end(JSON.stringify(v));
    };
    const m = /^\/v3\/config\/paths\/(get|add)\/([^?]+)$/.exec(url);
    if (m) {
      if (m[1] === 'get')
        return this.paths.has(m[2]) ? json(200, { name: m[2] }) : json(404, { error: 'path not found' });
      this.paths.add(m[2]);
      return json(200, { status: 'ok' });
    }
    if (req.method === 'POST' && /^\/[^/]+\/whep\?/.test(url)) {
      this.wheps.push({ method: req.method, url, contentType: req.headers['content-type'], body });
      await this.held;
      return json(this.whepStatus, { status: 'error', error: 'refused by the test' });
    }
    if (req.method === 'GET' && url.includes('/index.m3u8')) this.hlsGets.push(url);
    json(404, { status: 'error', error: 'not found' });
  }
}

/** What the page functions below touch of the DOM (the test's own types know no DOM). */
interface PageWindow {
  addEventListener(type: string, fn: (e: { violatedDirective: string; blockedURI: string }) => void): void;
  cspViolations?: string[];
}

describe(`live wall over MediaMTX WebRTC in a real browser (${ENGINE})`, () => {
  let t: TestApp;
  let mtx: MediaMtxDouble;
  let browser: Browser;
  const work = mkdtempSync(join(tmpdir(), 'heldar-console-rtc-'));

  beforeAll(async () => {
    const webDir = join(work, 'web');
    await buildWeb(webDir);
    mtx = new MediaMtxDouble();
    await mtx.start();
    t = await startTestApp({
      webDir,
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_LOGIN_RATE_LIMIT_PER_MIN: '0',
        HELDAR_RECORDER_ENABLED: 'false',
        HELDAR_AI_ENABLED: 'false',
        HELDAR_MEDIAMTX_API_URL: `http://127.0.0.1:${mtx.port}`,
        HELDAR_MEDIAMTX_WEBRTC_BASE: `http://127.0.0.1:${mtx.port}`,
        HELDAR_MEDIAMTX_HLS_BASE: `http://127.0.0.1:${mtx.hlsPort}`,
        HELDAR_LIVE_RECONCILE_INTERVAL_S: '3600',
      },
    });
    const token = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token as string;
    await t
      .http()
      .post('/api/v1/cameras')
      .set({ Authorization: `Bearer ${token}` })
      .send({ id: 'gate', name: 'Gate', main_stream_url: 'rtsp://192.0.2.10:554/main' })
      .expect(201);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await mtx?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('offers WebRTC to MediaMTX (a recvonly SDP offer, a token the auth callback accepts), with no CSP violation; refused, the tile falls back to HLS and says why', async () => {
    const ctx = await browser.newContext();
    const page: Page = await ctx.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.setDefaultTimeout(20_000);
    await page.addInitScript(() => {
      const w = globalThis as unknown as PageWindow;
      w.cspViolations = [];
      w.addEventListener('securitypolicyviolation', (e) =>
        w.cspViolations!.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    const site = t.baseUrl.replace('127.0.0.1', SITE_HOST);
    // The CSP names MediaMTX's origin as this browser reaches it (the loopback base follows the Host).
    const csp = (await page.goto(`${site}/`))!.headers()['content-security-policy'];
    expect(csp.split(';')).toContain(
      `connect-src 'self' http://${SITE_HOST}:${mtx.port} http://${SITE_HOST}:${mtx.hlsPort}`,
    );
    await page.fill('#username', ADMIN.username);
    await page.fill('#password', ADMIN.password);
    await page.click('#signin button[type=submit]');
    const VIDEO = 'video[data-camera=gate]';
    // The tile tries WebRTC first: the offer reaches MediaMTX's WHEP endpoint (the answer is held).
    await page.locator(`${VIDEO}[data-transport=webrtc]`).waitFor();
    const deadline = Date.now() + 15_000;
    while (mtx.wheps.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(mtx.wheps).toHaveLength(1);
    const offer = mtx.wheps[0];
    expect(offer.contentType).toBe('application/sdp');
    const u = new URL(offer.url, 'http://x');
    expect(u.pathname).toBe('/cam_gate/whep');
    expect(offer.body).toMatch(/^v=0\r\n/);
    expect(offer.body).toMatch(/\r\nm=video /);
    expect(offer.body).toMatch(/\r\na=recvonly\r\n/);
    // The token in the URL is one the kernel's auth callback accepts for reading that path over WebRTC.
    const tokenQuery = `token=${encodeURIComponent(u.searchParams.get('token')!)}`;
    await t
      .http()
      .post('/internal/mediamtx-auth')
      .send({
        ip: '127.0.0.1',
        user: '',
        password: '',
        token: '',
        id: null,
        action: 'read',
        path: 'cam_gate',
        protocol: 'webrtc',
        query: tokenQuery,
      })
      .expect(200);
    await t
      .http()
      .post('/internal/mediamtx-auth')
      .send({
        ip: '127.0.0.1',
        user: '',
        password: '',
        token: '',
        id: null,
        action: 'read',
        path: 'cam_other',
        protocol: 'webrtc',
        query: tokenQuery,
      })
      .expect(403);
    // MediaMTX refuses: the tile plays HLS instead, the reason in its data attribute and tooltip.
    mtx.answer(500);
    await page.locator(`${VIDEO}[data-transport=hls]`).waitFor();
    expect(await page.getAttribute(VIDEO, 'data-fallback')).toBe('the WebRTC server answered HTTP 500');
    expect(await page.getAttribute(VIDEO, 'title')).toBe(
      'WebRTC unavailable (the WebRTC server answered HTTP 500): playing HLS',
    );
    expect(mtx.wheps).toHaveLength(1); // one offer, not a retry loop
    // hls.js asks MediaMTX's HLS server (its own origin, allowed by the CSP too) for the playlist.
    while (mtx.hlsGets.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(mtx.hlsGets[0]).toMatch(/^\/cam_gate\/index\.m3u8\?token=/);
    expect(await page.evaluate(() => (globalThis as unknown as PageWindow).cspViolations)).toEqual([]);
    expect(pageErrors).toEqual([]);
    await ctx.close();
  }, 60_000);
});
