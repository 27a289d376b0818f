import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildRecordArgs } from '../../src/media/ffmpeg-args';

/** What the console's browser specs share: Debian's chromium, the accounts, the site name. */
export const CHROMIUM = '/usr/bin/chromium';
export const ADMIN = { username: 'root', password: 'root-password-1' };
export const VIEWER = { username: 'watcher', password: 'watcher-password-1' };
/** A site name the browser resolves to the test kernel (see --host-resolver-rules). */
export const SITE_HOST = 'nvr.heldar.test';

/** Chromium resolving SITE_HOST to loopback (a LAN site name, not localhost). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', `--host-resolver-rules=MAP ${SITE_HOST} 127.0.0.1`],
  });
}

/** The sign-in form, then the header's who-am-I. */
export async function signIn(
  page: Page,
  site: string,
  who: { username: string; password: string },
): Promise<void> {
  await page.goto(`${site}/`);
  await page.locator('#signin').waitFor();
  await page.fill('#username', who.username);
  await page.fill('#password', who.password);
  await page.click('#signin button[type=submit]');
  await page.locator('#whoami').waitFor();
}

/** Records `seconds` of the RTSP test camera with the recorder's own ffmpeg arguments. */
export async function recordReal(
  url: string,
  outDir: string,
  seconds: number,
  segmentSeconds: number,
): Promise<string[]> {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  for (const d of [new Date(), new Date(Date.now() + 86_400_000)])
    mkdirSync(join(outDir, day(d)), { recursive: true });
  const child = spawn('ffmpeg', buildRecordArgs({ url, recordAudio: false, segmentSeconds }, outDir), {
    env: { ...process.env, TZ: 'UTC' },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  child.stdin.write('q');
  await new Promise((r) => child.once('exit', r));
  return readdirSync(outDir)
    .flatMap((d) => readdirSync(join(outDir, d)).map((f) => join(outDir, d, f)))
    .sort();
}

/** A segment's path below its camera (`<day>/<YYYYmmdd_HHMMSS>.mp4`, UTC) for a start time. */
export const segmentFileName = (ms: number): string =>
  `${new Date(ms).toISOString().slice(0, 10)}/${new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15)}.mp4`;
