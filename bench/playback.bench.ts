import BetterSqlite3 from 'better-sqlite3';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFragmentIndex, type Mp4FragmentIndex } from '../src/media/mp4-fragments';
import { buildPlaylist } from '../src/playback/playlist';
import { bootKernel, cpuMsOf, stopKernel } from './ingest.bench';
import { segmentRelPath } from './scale-fixtures';
import { pct, round } from './stats';

/**
 * `playback` (issue 17): the built kernel as its own process over one camera holding 24 h of 60 s
 * fragmented-MP4 segments (1,440 real files, 2 s fragments; one file generated once with ffmpeg
 * into a cache under /tmp, copied per run with the recorder's names and mtimes, indexed by the
 * kernel's own indexer).
 * - Opening a 24 h session: POST to the first playlist, p50/p99, next to the raw floor (the same
 *   rows read with the SQLite driver + the same text built from indexes already in memory).
 * - An EVENT playlist's reload (what every player repeats each target duration), p50/p99.
 * - 32 viewers at 1× for BENCH_PLAYBACK_SECONDS (each its own range: the playlist, then the init
 *   sections and fragments as byte ranges at the media's pace): kernel CPU per viewer next to a bare
 *   node:http static server serving the same byte ranges of the same files, and next to one
 *   `ffmpeg -re … -c copy` remux per viewer (the naive design; their CPU summed from /proc).
 */

const CAMERA = 'pbbench';
const SEGMENT_S = 60;
const FILES = 1440;
const RUNS = Number(process.env.BENCH_PLAYBACK_RUNS ?? 30);
const RELOADS = 60;
const VIEWERS = 32;
const VIEW_S = Number(process.env.BENCH_PLAYBACK_SECONDS ?? 30);
const CACHE = join(process.env.BENCH_PLAYBACK_CACHE ?? '/tmp/heldar-playback-cache', 'v1');

export interface PlaybackBenchResult {
  segments: number;
  file_bytes: number;
  fragments_per_file: number;
  open_24h_p50_ms: number;
  open_24h_p99_ms: number;
  raw_rows_and_text_p50_ms: number;
  raw_rows_and_text_p99_ms: number;
  ratio_p50: number;
  ratio_p99: number;
  event_reload_p50_ms: number;
  event_reload_p99_ms: number;
  playlist_bytes: number;
  viewers: number;
  seconds: number;
  requests_per_viewer: number;
  kernel_cpu_ms_per_viewer: number;
  static_cpu_ms_per_viewer: number;
  ratio_static: number;
  ffmpeg_remux_cpu_ms_per_viewer: number;
  ratio_ffmpeg_to_kernel: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One 60 s fragmented MP4 (64x36 test pattern, 5 fps, a keyframe and fragment every 2 s), cached. */
function segmentMp4(): string {
  const file = join(CACHE, 'segment.mp4');
  if (existsSync(file)) return file;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${file}.partial.mp4`;
  execFileSync(
    process.env.HELDAR_FFMPEG_BIN ?? 'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x36:rate=5'],
      ...['-t', String(SEGMENT_S), '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '40', '-g', '10'],
      ...[
        '-pix_fmt',
        'yuv420p',
        '-movflags',
        '+frag_keyframe+empty_moov+default_base_moof',
        '-f',
        'mp4',
        tmp,
      ],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  execFileSync('mv', [tmp, file]);
  return file;
}

/** 24 h of segments ending two minutes ago on a whole minute, each file's mtime its end. */
async function placeFiles(src: string, cameraDir: string): Promise<{ startMs: number; endMs: number }> {
  const bytes = await readFile(src);
  const endMs = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
  const startMs = endMs - FILES * SEGMENT_S * 1000;
  const made = new Set<string>();
  for (let i = 0; i < FILES; i++) {
    const at = startMs + i * SEGMENT_S * 1000;
    const file = join(cameraDir, segmentRelPath(at, 'day'));
    const dir = file.slice(0, file.lastIndexOf('/'));
    if (!made.has(dir)) mkdirSync(dir, { recursive: true });
    made.add(dir);
    writeFileSync(file, bytes);
    const end = new Date(at + SEGMENT_S * 1000);
    utimesSync(file, end, end);
  }
  return { startMs, endMs };
}

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

interface Session {
  id: string;
  playlist_url: string;
  segment_count: number;
}

/** A byte range GET on a keep-alive agent; resolves with the bytes received. */
function getRange(port: number, agent: Agent, path: string, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        headers: { Range: `bytes=${offset}-${offset + length - 1}` },
      },
      (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () =>
          res.statusCode === 206 ? resolve(n) : reject(new Error(`${path}: ${res.statusCode}`)),
        );
      },
    )
      .on('error', reject)
      .end();
  });
}

interface Fetch {
  path: string;
  offset: number;
  length: number;
  /** When, in media seconds from the viewer's start, the player needs it. */
  atS: number;
}

/** What a player fetches from a playlist: each file's MAP once, every fragment at its media time. */
function fetchesOf(text: string, base: string, rename: (uri: string) => string): Fetch[] {
  const out: Fetch[] = [];
  let atS = 0;
  let dur = 0;
  let range: [number, number] | null = null;
  for (const line of text.split('\n')) {
    const map = /^#EXT-X-MAP:URI="([^"]+)",BYTERANGE="(\d+)@(\d+)"$/.exec(line);
    if (map) out.push({ path: rename(`${base}/${map[1]}`), offset: +map[3], length: +map[2], atS });
    else if (line.startsWith('#EXTINF:')) dur = parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-BYTERANGE:')) {
      const [len, off] = line.slice(17).split('@').map(Number);
      range = [off, len];
    } else if (line && !line.startsWith('#') && range) {
      out.push({ path: rename(`${base}/${line}`), offset: range[0], length: range[1], atS });
      atS += dur;
      range = null;
    }
  }
  return out;
}

/** Every viewer plays its fetches at 1× for `seconds`: each request when the media clock reaches it. */
async function play(port: number, viewers: Fetch[][], seconds: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: viewers.length });
  let requests = 0;
  try {
    const t0 = performance.now();
    await Promise.all(
      viewers.map(async (fetches) => {
        for (const f of fetches) {
          if (f.atS >= seconds) break;
          const wait = t0 + f.atS * 1000 - performance.now();
          if (wait > 0) await sleep(wait);
          await getRange(port, agent, f.path, f.offset, f.length);
          requests++;
        }
      }),
    );
    const rest = t0 + seconds * 1000 - performance.now();
    if (rest > 0) await sleep(rest);
  } finally {
    agent.destroy();
  }
  return requests;
}

const STATIC_SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const root = process.env.ROOT;
http.createServer((req, res) => {
  const file = path.join(root, decodeURIComponent(req.url.split('?')[0]));
  fs.stat(file, (err, st) => {
    if (err) { res.statusCode = 404; return res.end(); }
    const m = /^bytes=(\\d+)-(\\d+)$/.exec(req.headers.range || '');
    const start = m ? Number(m[1]) : 0;
    const end = m ? Math.min(Number(m[2]), st.size - 1) : st.size - 1;
    res.statusCode = m ? 206 : 200;
    res.setHeader('Content-Type', 'video/mp4');
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Length', end - start + 1);
    if (m) res.setHeader('Content-Range', 'bytes ' + start + '-' + end + '/' + st.size);
    fs.createReadStream(file, { start, end }).pipe(res);
  });
}).listen(0, '127.0.0.1', function () { process.send(this.address().port); });
`;

async function startStatic(root: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', STATIC_SERVER], {
    env: { PATH: process.env.PATH, ROOT: root },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (p) => resolve(p as number));
    child.once('exit', (code) => reject(new Error(`the static server exited (${code})`)));
  });
  return { child, port };
}

/** One `ffmpeg -re -f concat … -c copy -f mpegts` per viewer over its files for `seconds`: summed CPU ms. */
async function ffmpegRemux(dir: string, viewerFiles: string[][], seconds: number): Promise<number> {
  const children = viewerFiles.map((files, i) => {
    const list = join(dir, `concat-${i}.txt`);
    writeFileSync(list, files.map((f) => `file '${f}'\n`).join(''));
    return spawn(
      process.env.HELDAR_FFMPEG_BIN ?? 'ffmpeg',
      [
        ...[
          '-hide_banner',
          '-loglevel',
          'error',
          '-nostdin',
          '-re',
          '-f',
          'concat',
          '-safe',
          '0',
          '-i',
          list,
        ],
        ...['-map', '0:v', '-c', 'copy', '-f', 'mpegts', 'pipe:1'],
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
  });
  for (const c of children) c.stdout.resume(); // a viewer's socket: read and dropped
  await sleep(seconds * 1000);
  let sum = 0;
  for (const c of children) {
    try {
      sum += cpuMsOf(c.pid!);
    } catch {
      /* exited early: its CPU is lost to /proc; counted as 0 (an under-estimate) */
    }
  }
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
  return sum;
}

export async function benchPlayback(): Promise<PlaybackBenchResult> {
  const src = segmentMp4();
  const index = (await readFragmentIndex(src)) as Mp4FragmentIndex;
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-playback-'));
  const recordings = join(dir, 'recordings');
  const log = (msg: string) => console.log(`playback: ${msg}`);
  try {
    const kernel = await bootKernel(dir, {
      HELDAR_INDEXER_INTERVAL_S: '1',
      HELDAR_DEFAULT_RETENTION_HOURS: '72',
    });
    const base = `http://127.0.0.1:${kernel.port}`;
    const pid = kernel.child.pid!;
    try {
      await api(base, 'POST', '/api/v1/cameras', { id: CAMERA, name: CAMERA, segment_seconds: SEGMENT_S });
      // Placed after the camera exists and the boot's orphan pass ran (files with no row an hour
      // old are reclaimed as orphans); the indexer, every second, picks them up.
      const { startMs, endMs } = await placeFiles(src, join(recordings, CAMERA));
      log(`${FILES} files placed (${statSync(src).size} bytes each)`);
      const t0 = performance.now();
      for (;;) {
        const tl = await api<{ segment_count: number }>(base, 'GET', `/api/v1/cameras/${CAMERA}/timeline`);
        if (tl.segment_count >= FILES) break;
        if (performance.now() - t0 > 600_000) throw new Error(`indexed ${tl.segment_count} of ${FILES}`);
        await sleep(500);
      }
      log(`indexed in ${round((performance.now() - t0) / 1000, 1)} s`);
      const iso = (ms: number) => new Date(ms).toISOString();

      // Opening a 24 h session: POST then the first playlist (the files' indexes are cached after the first).
      const openMs: number[] = [];
      const rawMs: number[] = [];
      const db = new BetterSqlite3(join(dir, 'heldar.db'), { readonly: true });
      const rowsOf = db.prepare(
        'SELECT id, path, start_time, end_time FROM segments WHERE camera_id = ? AND end_time > ? AND start_time < ? ORDER BY start_time LIMIT 5000',
      );
      let playlistBytes = 0;
      for (let i = -2; i < RUNS; i++) {
        const a = performance.now();
        const s = await api<Session>(base, 'POST', `/api/v1/cameras/${CAMERA}/playback`, {
          from: iso(startMs),
          to: iso(endMs),
        });
        const text = await (await fetch(`${base}${s.playlist_url}`)).text();
        const took = performance.now() - a;
        if (s.segment_count !== FILES) throw new Error(`a 24 h session lists ${s.segment_count} segments`);
        playlistBytes = text.length;
        await api(base, 'DELETE', `/api/v1/playback/${s.id}`);
        // The floor: the same rows by the driver, the same text from indexes held in memory.
        const b = performance.now();
        const rows = rowsOf.all(CAMERA, iso(startMs), iso(endMs)) as Array<{
          id: string;
          start_time: string;
        }>;
        const pl = buildPlaylist({
          files: rows.map((r) => ({ uri: `${r.id}.mp4`, startMs: Date.parse(r.start_time), index })),
          fromMs: startMs,
          toMs: endMs,
          token: 'x'.repeat(120),
        });
        const rawTook = performance.now() - b;
        if (pl.entries.length === 0) throw new Error('no entries');
        if (i >= 0) {
          openMs.push(took);
          rawMs.push(rawTook);
        }
      }
      db.close();
      log(`open 24 h: p50 ${round(pct(openMs, 50))} ms, raw p50 ${round(pct(rawMs, 50))} ms`);

      // An EVENT playlist over (nearly) the same day: its reloads.
      const ev = await api<Session>(base, 'POST', `/api/v1/cameras/${CAMERA}/playback`, {
        from: iso(Date.now() - 86_400_000 + 60_000),
      });
      const reloadMs: number[] = [];
      for (let i = -3; i < RELOADS; i++) {
        const a = performance.now();
        const res = await fetch(`${base}${ev.playlist_url}`);
        await res.text();
        if (i >= 0) reloadMs.push(performance.now() - a);
        await sleep(50);
      }
      await api(base, 'DELETE', `/api/v1/playback/${ev.id}`);
      log(`EVENT reload: p50 ${round(pct(reloadMs, 50))} ms (${ev.segment_count} segments)`);

      // 32 viewers, each 10 minutes of its own hour.
      const segs = await api<Array<{ id: string; path: string }>>(
        base,
        'GET',
        `/api/v1/cameras/${CAMERA}/segments?limit=5000`,
      );
      const pathOf = new Map(segs.map((s) => [s.id, s.path]));
      const sessions: Session[] = [];
      const playlists: string[] = [];
      const viewerFiles: string[][] = [];
      for (let v = 0; v < VIEWERS; v++) {
        const from = startMs + v * 45 * 60_000 + 7_000;
        const s = await api<Session>(base, 'POST', `/api/v1/cameras/${CAMERA}/playback`, {
          from: iso(from),
          to: iso(from + 10 * 60_000),
        });
        sessions.push(s);
        playlists.push(await (await fetch(`${base}${s.playlist_url}`)).text());
        const first = Math.floor((from - startMs) / (SEGMENT_S * 1000));
        viewerFiles.push(
          Array.from({ length: 11 }, (_, k) => join(recordings, segmentRelPathOf(startMs, first + k))),
        );
      }
      const kernelFetches = sessions.map((s, v) =>
        fetchesOf(playlists[v], `/media/playback/${s.id}`, (u) => u),
      );
      const staticFetches = sessions.map((s, v) =>
        fetchesOf(playlists[v], '', (u) => `/${pathOf.get(/\/(seg_[^/?]+)\.mp4/.exec(u)![1])!}`),
      );
      const c0 = cpuMsOf(pid);
      // The playlist each viewer starts with is part of its cost: fetched again inside the window.
      await Promise.all(sessions.map((s) => fetch(`${base}${s.playlist_url}`).then((r) => r.text())));
      const kernelRequests = await play(kernel.port, kernelFetches, VIEW_S);
      const kernelCpu = cpuMsOf(pid) - c0;
      for (const s of sessions) await api(base, 'DELETE', `/api/v1/playback/${s.id}`);
      log(`kernel: ${round(kernelCpu / VIEWERS)} ms CPU per viewer (${kernelRequests} requests)`);

      const st = await startStatic(recordings);
      let staticCpu: number;
      try {
        const s0 = cpuMsOf(st.child.pid!);
        await play(st.port, staticFetches, VIEW_S);
        staticCpu = cpuMsOf(st.child.pid!) - s0;
      } finally {
        st.child.kill('SIGTERM');
      }
      log(`static server: ${round(staticCpu / VIEWERS)} ms CPU per viewer`);
      const ffmpegCpu = await ffmpegRemux(dir, viewerFiles, VIEW_S);
      log(`ffmpeg remux: ${round(ffmpegCpu / VIEWERS)} ms CPU per viewer`);

      return {
        segments: FILES,
        file_bytes: statSync(src).size,
        fragments_per_file: index.fragments.length,
        open_24h_p50_ms: round(pct(openMs, 50)),
        open_24h_p99_ms: round(pct(openMs, 99)),
        raw_rows_and_text_p50_ms: round(pct(rawMs, 50)),
        raw_rows_and_text_p99_ms: round(pct(rawMs, 99)),
        ratio_p50: round(pct(openMs, 50) / pct(rawMs, 50), 1),
        ratio_p99: round(pct(openMs, 99) / pct(rawMs, 99), 1),
        event_reload_p50_ms: round(pct(reloadMs, 50)),
        event_reload_p99_ms: round(pct(reloadMs, 99)),
        playlist_bytes: playlistBytes,
        viewers: VIEWERS,
        seconds: VIEW_S,
        requests_per_viewer: round(kernelRequests / VIEWERS, 1),
        kernel_cpu_ms_per_viewer: round(kernelCpu / VIEWERS),
        static_cpu_ms_per_viewer: round(staticCpu / VIEWERS),
        ratio_static: round(kernelCpu / staticCpu, 1),
        ffmpeg_remux_cpu_ms_per_viewer: round(ffmpegCpu / VIEWERS),
        ratio_ffmpeg_to_kernel: round(ffmpegCpu / kernelCpu, 1),
      };
    } finally {
      await stopKernel(kernel.child);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const segmentRelPathOf = (startMs: number, i: number) =>
  join(CAMERA, segmentRelPath(startMs + i * SEGMENT_S * 1000, 'day'));
