import BetterSqlite3 from 'better-sqlite3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prefixedId } from '../src/common/ids';
import {
  KERNEL_LAYOUT,
  ensureScaleFixture,
  linkScaleCamera,
  scaleCameraId,
  type ScaleFixture,
} from './scale-fixtures';
import { pct, round } from './stats';
import { freePort } from './support';

/**
 * `scale` (issue 14): the built kernel as a process with N cameras, recorders off, first with an
 * empty recordings directory, then holding D days of finished 60 s segments (tiny real MP4s):
 * steady CPU and RSS held vs empty, the backlog indexing rate (files present at boot) with the
 * API's p99 meanwhile, 30-day timeline/gaps p99 against the raw driver, and a retention sweep
 * with nothing to delete held vs empty.
 */

const MAIN = join(__dirname, '..', 'heldar.js'); // the bundle `make run` starts
const CLK_TCK = 100;
/** Tables whose rows of the indexed reference camera are cloned for the other cameras when their
 * backlog is not indexed by the kernel itself (add a table keyed by camera_id that the indexer
 * fills): segment rows, what is kept from them (stored coverage, per-camera usage) and what the
 * last full pass saw of each day folder, so a clone boots as a site does every day after the first. */
const CLONE_TABLES = ['segments', 'coverage', 'segment_usage', 'indexed_days'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = (name: string, fallback: string) => process.env[name] || fallback;

/** CPU seconds (user + system) of a process, from /proc. */
function cpuS(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function rssMib(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? round(Number(m[1]) / 1024, 1) : NaN;
}

interface Kernel {
  child: ChildProcess;
  base: string;
  spawnedAt: number;
  readyMs: number;
}

const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

async function bootKernel(dir: string): Promise<Kernel> {
  const port = await freePort();
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [MAIN], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HELDAR_DATA_DIR: dir,
      HELDAR_DATABASE_URL: `sqlite://${join(dir, 'heldar.db')}`,
      HELDAR_API_HOST: '127.0.0.1',
      HELDAR_API_PORT: String(port),
      HELDAR_LOG: 'warn',
      HELDAR_RECORDER_ENABLED: 'false',
      HELDAR_AI_ENABLED: 'false',
      HELDAR_MAX_RECORDINGS_GB: '0',
      HELDAR_MIN_FREE_DISK_GB: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    const ok = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (exited(child))
      throw new Error(`the kernel exited (${child.exitCode ?? child.signalCode}) during boot`);
    if (performance.now() - spawnedAt > 300_000) throw new Error('the kernel was not ready within 300 s');
    await sleep(20);
  }
  return { child, base, spawnedAt, readyMs: round(performance.now() - spawnedAt, 0) };
}

async function stopKernel(k: Kernel): Promise<void> {
  if (exited(k.child)) return;
  const gone = new Promise((r) => k.child.once('exit', r));
  k.child.kill('SIGTERM');
  const timer = setTimeout(() => k.child.kill('SIGKILL'), 60_000);
  await gone;
  clearTimeout(timer);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function getOk(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Kernel CPU-s per minute over `seconds` with nothing asked of it, its CPU-s in each 10 s of
 * that (where the time went: a one-off shows as one window), and its RSS at the end. */
interface SteadyFigure {
  cpu_s_per_min: number;
  cpu_s_per_10s: number[];
  rss_mib: number;
}

async function steady(k: Kernel, seconds: number): Promise<SteadyFigure> {
  const pid = k.child.pid!;
  const c0 = cpuS(pid);
  const t0 = performance.now();
  const windows: number[] = [];
  let last = c0;
  for (let left = seconds; left > 0; left -= 10) {
    await sleep(Math.min(10, left) * 1000);
    const c = cpuS(pid);
    windows.push(round(c - last, 2));
    last = c;
  }
  const elapsedS = (performance.now() - t0) / 1000;
  return {
    cpu_s_per_min: round(((last - c0) / elapsedS) * 60, 2),
    cpu_s_per_10s: windows,
    rss_mib: rssMib(pid),
  };
}

/** GET /api/v1/cameras every ~50 ms until `done()`; latencies in ms (a timeout counts as 10 s). */
async function sampleApi(base: string, done: () => boolean): Promise<number[]> {
  const ms: number[] = [];
  while (!done()) {
    const t0 = performance.now();
    try {
      const res = await fetch(`${base}/api/v1/cameras`, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      ms.push(performance.now() - t0);
    } catch {
      ms.push(10_000);
    }
    await sleep(Math.max(0, 50 - (performance.now() - t0)));
  }
  return ms;
}

interface SweepFigure {
  runs: number;
  http_p50_ms: number;
  http_max_ms: number;
  /** The sweep's own duration_ms (the kernel's clock), median. */
  sweep_p50_ms: number;
  /** Segments and orphan files the sweeps deleted (must be 0: a no-op sweep). */
  deleted: number;
}

async function sweeps(base: string, runs: number): Promise<SweepFigure> {
  const http: number[] = [];
  const own: number[] = [];
  let deleted = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}/api/v1/system/retention/sweep`, {
      method: 'POST',
      signal: AbortSignal.timeout(600_000),
    });
    const r = (await res.json()) as Record<string, { deleted?: number; files?: number } | number | null>;
    http.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`sweep: ${res.status} ${JSON.stringify(r)}`);
    own.push(Number(r.duration_ms));
    for (const step of ['age', 'camera_quota', 'size_cap', 'free_floor'])
      deleted += (r[step] as { deleted?: number } | null)?.deleted ?? 0;
    deleted += (r.orphans as { files?: number } | null)?.files ?? 0;
  }
  return {
    runs,
    http_p50_ms: round(pct(http, 50), 1),
    http_max_ms: round(Math.max(...http), 1),
    sweep_p50_ms: round(pct(own, 50), 1),
    deleted,
  };
}

async function createCameras(base: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${base}/api/v1/cameras`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: scaleCameraId(i),
        name: `Scale ${i}`,
        main_stream_url: 'rtsp://127.0.0.1:9/nowhere', // recorders are off anyway
        record_enabled: false,
        segment_seconds: 60,
        retention_hours: 43_800, // nothing ages out: the sweeps are no-ops
      }),
    });
    if (res.status !== 201) throw new Error(`camera ${i}: ${res.status} ${await res.text()}`);
  }
}

/** Every file under `dir` listed and stat'ed by a plain Node walk (64 at a time): files/s. */
async function rawListStat(dir: string): Promise<{ files: number; files_per_s: number }> {
  const t0 = performance.now();
  let files = 0;
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    const subdirs = entries.filter((e) => e.isDirectory());
    const plain = entries.filter((e) => e.isFile());
    for (let i = 0; i < plain.length; i += 64)
      await Promise.all(plain.slice(i, i + 64).map((e) => stat(join(d, e.name))));
    files += plain.length;
    for (const s of subdirs) await walk(join(d, s.name));
  };
  await walk(dir);
  return { files, files_per_s: round(files / ((performance.now() - t0) / 1000), 0) };
}

const countRows = (db: BetterSqlite3.Database): number =>
  (db.prepare('SELECT COUNT(*) AS n FROM segments').get() as { n: number }).n;

/** Rows of the reference camera in CLONE_TABLES, to give other cameras the same indexed history. */
type Reference = Map<string, Record<string, unknown>[]>;

function readReference(dbPath: string, cameraId: string): Reference {
  const db = new BetterSqlite3(dbPath, { readonly: true });
  try {
    const out: Reference = new Map();
    for (const t of CLONE_TABLES)
      out.set(
        t,
        db.prepare(`SELECT * FROM ${t} WHERE camera_id = ?`).all(cameraId) as Record<string, unknown>[],
      );
    return out;
  } finally {
    db.close();
  }
}

/** Insert the reference rows for camera `i` (kernel stopped): new ids, its camera id and paths. */
function cloneReference(
  dbPath: string,
  ref: Reference,
  from: string,
  cameras: number[],
  recordingsDir: string,
): void {
  const db = new BetterSqlite3(dbPath);
  try {
    db.transaction(() => {
      for (const [table, rows] of ref) {
        if (rows.length === 0) continue;
        const cols = Object.keys(rows[0]);
        const insert = db.prepare(
          `INSERT OR REPLACE INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        );
        for (const i of cameras) {
          const cam = scaleCameraId(i);
          for (const row of rows) {
            const r: Record<string, unknown> = { ...row, camera_id: cam };
            if (typeof r.id === 'string') r.id = prefixedId(r.id.slice(0, r.id.indexOf('_') + 1));
            if (typeof r.path === 'string' && r.path.startsWith(`${from}/`))
              r.path = `${cam}/${r.path.slice(from.length + 1)}`;
            // A day folder's state holds its own mtime (the clone's folder was made by the link).
            if (table === 'indexed_days')
              r.mtime_ms = statSync(join(recordingsDir, cam, String(r.day))).mtimeMs;
            insert.run(...cols.map((c) => r[c]));
          }
        }
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

export interface ScaleFigures {
  cameras: number;
  files_held: number;
  empty: SteadyFigure & { api_cameras_p99_ms: number; ready_ms: number };
  held: SteadyFigure & { ready_ms: number };
  /** held ÷ empty (issue 14's bar: ≤ 1.2) */
  ratio_cpu: number;
  ratio_rss: number;
  backlog: {
    /** Cameras whose files the kernel indexed itself in this run (the rest: rows cloned from them). */
    cameras_indexed: number;
    files: number;
    /** Process start → /readyz 200, and → every file has a row. */
    ready_ms: number;
    seconds: number;
    files_per_s: number;
    /** The same files listed and stat'ed by a plain Node walk in this run. */
    raw_list_stat_files_per_s: number;
    api_cameras_p50_ms: number;
    api_cameras_p99_ms: number;
    api_samples: number;
    /** backlog p99 ÷ idle p99 (empty kernel) */
    ratio_api_p99: number;
    /** RSS of the kernel that indexed the backlog, settle seconds after it finished (transient). */
    rss_after_mib?: number;
  } | null;
  /** 30-day queries of one camera through HTTP vs the raw driver reading the same span rows. */
  timeline_30_days: { api_p50_ms: number; api_p99_ms: number; raw_p99_ms: number; ratio_p99: number };
  gaps_30_days: { api_p50_ms: number; api_p99_ms: number; raw_p99_ms: number; ratio_p99: number };
  sweep_empty: SweepFigure;
  sweep_held: SweepFigure;
  ratio_sweep: number;
}

async function queryFigure(
  url: string,
  raw: () => unknown,
  runs: number,
): Promise<{ api_p50_ms: number; api_p99_ms: number; raw_p99_ms: number; ratio_p99: number }> {
  await getOk(url);
  raw();
  const api: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < runs; i++) {
    api.push(await timed(() => getOk(url)));
    direct.push(await timed(async () => raw()));
  }
  const a = pct(api, 99);
  const r = pct(direct, 99);
  return {
    api_p50_ms: round(pct(api, 50), 2),
    api_p99_ms: round(a, 2),
    raw_p99_ms: round(r, 2),
    ratio_p99: round(a / r, 1),
  };
}

interface ScenarioOptions {
  steadyS: number;
  settleS: number;
  backlogCameras: number;
  backlogMaxS: number;
  queryRuns: number;
  sweepRuns: number;
}

let reference: Reference | null = null;

async function scenario(n: number, fixture: ScaleFixture, o: ScenarioOptions): Promise<ScaleFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-scale-'));
  const dbPath = join(dir, 'heldar.db');
  const recordings = join(dir, 'recordings');
  const log = (msg: string) => console.log(`scale[${n}]: ${msg}`);
  const started: Kernel[] = [];
  const boot = async () => {
    const k = await bootKernel(dir);
    started.push(k);
    return k;
  };
  try {
    // 1. Empty recordings directory: the baseline.
    let k = await boot();
    let empty: ScaleFigures['empty'];
    let sweepEmpty: SweepFigure;
    try {
      await createCameras(k.base, n);
      await sleep(o.settleS * 1000);
      log(`empty: steady ${o.steadyS} s`);
      const s = await steady(k, o.steadyS);
      let samples = 0;
      const idle = await sampleApi(k.base, () => ++samples > 100);
      sweepEmpty = await sweeps(k.base, o.sweepRuns);
      empty = { ...s, api_cameras_p99_ms: round(pct(idle, 99), 1), ready_ms: k.readyMs };
    } finally {
      await stopKernel(k);
    }

    // 2. The files appear while the kernel is down (a restored disk, a kernel down for a while).
    // The first `indexSelf` cameras are indexed by the kernel here (their backlog is measured):
    // all of them up to BENCH_SCALE_BACKLOG_CAMERAS, else one when no scenario has indexed a
    // camera yet, else none. The others get the reference camera's rows, the state the kernel
    // leaves once it has indexed them.
    const indexSelf = n <= o.backlogCameras ? n : reference ? 0 : 1;
    for (let i = 0; i < indexSelf; i++) await linkScaleCamera(fixture, i, recordings);
    const expected = n * fixture.filesPerCamera;
    let backlog: ScaleFigures['backlog'] = null;
    if (indexSelf > 0) {
      const files = indexSelf * fixture.filesPerCamera;
      const raw = await rawListStat(recordings);
      log(`backlog: ${files} files at boot`);
      k = await boot();
      const db = new BetterSqlite3(dbPath, { readonly: true });
      let done = false;
      let indexedAt = 0;
      const failure: { err?: Error } = {};
      const poll = (async () => {
        try {
          for (;;) {
            const rows = countRows(db);
            if (rows >= files) {
              indexedAt = performance.now();
              return;
            }
            if (performance.now() - k.spawnedAt > o.backlogMaxS * 1000)
              throw new Error(
                `backlog not indexed within ${o.backlogMaxS} s (${rows}/${files} rows); raise BENCH_SCALE_BACKLOG_MAX_S`,
              );
            await sleep(250);
          }
        } catch (err) {
          failure.err = err as Error;
        } finally {
          done = true;
        }
      })();
      const api = await sampleApi(k.base, () => done);
      await poll;
      db.close();
      if (failure.err) {
        await stopKernel(k);
        throw failure.err;
      }
      const seconds = (indexedAt - k.spawnedAt) / 1000;
      const p99 = pct(api, 99);
      backlog = {
        cameras_indexed: indexSelf,
        files,
        ready_ms: k.readyMs,
        seconds: round(seconds, 1),
        files_per_s: round(files / seconds, 0),
        raw_list_stat_files_per_s: raw.files_per_s,
        api_cameras_p50_ms: round(pct(api, 50), 1),
        api_cameras_p99_ms: round(p99, 1),
        api_samples: api.length,
        ratio_api_p99: round(p99 / empty.api_cameras_p99_ms, 1),
      };
      log(`backlog: ${JSON.stringify(backlog)}`);
      reference ??= readReference(dbPath, scaleCameraId(0));
      // What the backlog leaves resident: garbage V8 keeps pooled until its memory reducer runs
      // (one to two minutes later), not state; the held figures below come from a restart.
      await sleep(o.settleS * 1000);
      backlog.rss_after_mib = rssMib(k.child.pid!);
      await stopKernel(k);
    }
    if (indexSelf < n) {
      for (let i = indexSelf; i < n; i++) await linkScaleCamera(fixture, i, recordings);
      const rest = Array.from({ length: n - indexSelf }, (_, j) => indexSelf + j);
      cloneReference(dbPath, reference!, scaleCameraId(0), rest, recordings);
      log(`cloned the reference rows for ${rest.length} camera(s)`);
    }
    // Every file has its row: the state a site is in every day after the first (the issue's
    // "30 days held, all indexed"), booted as the site's kernel boots.
    k = await boot();

    // 3. Everything indexed: steady state, queries, a no-op sweep.
    try {
      const db = new BetterSqlite3(dbPath, { readonly: true });
      const rows = countRows(db);
      if (rows !== expected) throw new Error(`expected ${expected} segment rows, found ${rows}`);
      await sleep(o.settleS * 1000);
      log(`held: steady ${o.steadyS} s`);
      const held = { ...(await steady(k, o.steadyS)), ready_ms: k.readyMs };
      const cam = scaleCameraId(0);
      const from = new Date(fixture.startMs - 60_000).toISOString();
      const to = new Date(fixture.endMs + 60_000).toISOString();
      const lower = new Date(Date.parse(from) - 3_601_000).toISOString();
      const span = db.prepare(
        'SELECT start_time, end_time FROM segments WHERE camera_id = ? AND start_time < ? AND start_time > ? AND end_time > ? ORDER BY start_time',
      );
      const rawSpan = () => span.all(cam, to, lower, from);
      const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
      const timeline = await queryFigure(
        `${k.base}/api/v1/cameras/${cam}/timeline?${q}`,
        rawSpan,
        o.queryRuns,
      );
      const gaps = await queryFigure(`${k.base}/api/v1/cameras/${cam}/gaps?${q}`, rawSpan, o.queryRuns);
      db.close();
      const sweepHeld = await sweeps(k.base, o.sweepRuns);
      return {
        cameras: n,
        files_held: expected,
        empty,
        held,
        ratio_cpu: round(held.cpu_s_per_min / empty.cpu_s_per_min, 1),
        ratio_rss: round(held.rss_mib / empty.rss_mib, 2),
        backlog,
        timeline_30_days: timeline,
        gaps_30_days: gaps,
        sweep_empty: sweepEmpty,
        sweep_held: sweepHeld,
        ratio_sweep: round(sweepHeld.http_p50_ms / sweepEmpty.http_p50_ms, 1),
      };
    } finally {
      await stopKernel(k);
    }
  } finally {
    for (const k of started) await stopKernel(k);
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ScaleBenchResult {
  /** Which code produced these figures (BENCH_SCALE_CODE), and its commit. */
  code: string;
  commit: string;
  layout: string;
  days: number;
  segment_seconds: number;
  files_per_camera: number;
  file_bytes: number;
  fixture_generated_s: number;
  steady_s: number;
  scenarios: Record<string, ScaleFigures>;
}

/** BENCH_SCALE_CAMERAS (default "1,16"), BENCH_SCALE_DAYS (30), BENCH_SCALE_STEADY_S (60),
 * BENCH_SCALE_BACKLOG_CAMERAS (1: a scenario with at most this many cameras has the kernel index
 * all of them, a larger one gets the indexed rows of the first scenario's camera 0 — or indexes
 * that one camera itself when it runs first), BENCH_SCALE_BACKLOG_MAX_S (1800), BENCH_SCALE_SWEEPS (3: forced
 * sweeps timed per state), BENCH_SCALE_SETTLE_S (45: after boot, V8's memory reducer runs its
 * compacting GCs for 20–40 s, longer the more boot allocated; 20 s put the held kernel's in its
 * first steady window, 0.2 CPU-s that is not steady cost), BENCH_SCALE_CODE (a label for the figures),
 * BENCH_SCALE_CACHE (/tmp/heldar-scale-cache). */
export async function benchScale(): Promise<ScaleBenchResult> {
  const counts = env('BENCH_SCALE_CAMERAS', '1,16')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((c) => Number.isInteger(c) && c > 0)
    .sort((a, b) => a - b);
  const days = Number(env('BENCH_SCALE_DAYS', '30'));
  const steadyS = Number(env('BENCH_SCALE_STEADY_S', '60'));
  const options: ScenarioOptions = {
    steadyS,
    settleS: Number(env('BENCH_SCALE_SETTLE_S', '45')),
    backlogCameras: Number(env('BENCH_SCALE_BACKLOG_CAMERAS', '1')),
    backlogMaxS: Number(env('BENCH_SCALE_BACKLOG_MAX_S', '1800')),
    queryRuns: 30,
    sweepRuns: Number(env('BENCH_SCALE_SWEEPS', '3')),
  };
  const max = Math.max(...counts);
  console.log(`scale: fixture of ${max} camera(s) × ${days} days (${KERNEL_LAYOUT} layout)…`);
  const fixture = ensureScaleFixture({ cameras: max, days });
  console.log(`scale: fixture ready at ${fixture.root} (generated in ${fixture.generatedS} s)`);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: resolve(__dirname, '..', '..'),
      encoding: 'utf8',
    }).trim();
  } catch {
    /* not a checkout */
  }
  reference = null;
  const scenarios: Record<string, ScaleFigures> = {};
  for (const n of counts) scenarios[`cameras_${n}`] = await scenario(n, fixture, options);
  return {
    code: env('BENCH_SCALE_CODE', 'unlabelled'),
    commit,
    layout: fixture.layout,
    days,
    segment_seconds: fixture.segmentSeconds,
    files_per_camera: fixture.filesPerCamera,
    file_bytes: fixture.fileBytes,
    fixture_generated_s: fixture.generatedS,
    steady_s: steadyS,
    scenarios,
  };
}
