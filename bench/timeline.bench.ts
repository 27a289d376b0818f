import BetterSqlite3 from 'better-sqlite3';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Coverage1765700000000 } from '../migrations/1765700000000-coverage';
import { MIGRATIONS } from '../migrations';
import { RetentionService } from '../src/retention/retention.service';
import { coverageWindow, findHoles, mergeRanges } from '../src/timeline/timeline-logic';
import { COVERAGE_SPANS_SQL, SEGMENT_COLUMNS, TimelineRepository } from '../src/timeline/timeline.repository';
import { pct, round } from './stats';
import { bareHttpServer } from './support';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/heldar-config';
import { DatabaseService } from '../src/database/database.service';

/**
 * The timeline reads on a store holding 30 days of 60 s segments per camera, on SQLite and on
 * PostgreSQL: one camera (43,200 segment rows) and the database alone at 64 cameras (2.76M rows).
 * Each query is timed through HTTP (the kernel) and as the raw driver running the statements the
 * kernel runs for it (camera probe, coverage and edge segments, recorded gaps, recorder runs), in
 * the same loop (alternating, so a busy moment of the shared machine hits both). The bars are
 * issue 14's: p99 < 20 ms for the 30-day timeline and gaps, < 5 ms for a 1-hour segment list.
 *
 * The kernel runs in this process (the before-figures and the sweep call its services); its HTTP
 * client is a separate process (a keep-alive node:http GET, timed there from the request to the
 * parsed JSON body), so the client's own CPU is not added to the kernel's latency (it was, with
 * fetch in this process: ~1-2 ms of every API figure was the client).
 *
 * On a 2-core machine the client-observed tail is mostly scheduling: a request whose kernel time
 * was 1.5 ms waited 2-4 ms before the kernel saw it, or after it was written, while another thread
 * (a garbage-collector helper, the other process) had the cores. So each case also reports the
 * kernel's own time per request and the same client against a bare HTTP server sending the same
 * bytes (the harness's floor).
 */

const DAYS = 30;
const PER_CAMERA = DAYS * 1440; // 60 s segments
const SCALE_CAMERAS = 64;
const RUNS = Number(process.env.BENCH_TIMELINE_RUNS ?? 500);
/** Requests of each case before the measured ones: a kernel serving these all day has them
 * compiled; the first few dozen run in the interpreter while the optimising compiler catches up. */
const WARMUP = 50;
/** Main's way before stored coverage (every segment of the window merged per request) is slow: a few runs. */
const BEFORE_RUNS = 5;
const SCALE_CACHE = join(tmpdir(), `heldar-bench-scale64-v1-m${MIGRATIONS.length}.db`);
const BAR_P99_MS = { timeline_30_days: 20, gaps_30_days: 20, segments_1_hour: 5 } as const;
type CaseName = keyof typeof BAR_P99_MS;

export interface TimelineQueryFigure {
  api_p50_ms: number;
  api_p99_ms: number;
  /** The raw driver running the statements the API runs for this request. */
  raw_p50_ms: number;
  raw_p99_ms: number;
  ratio_p50: number;
  ratio_p99: number;
  bar_p99_ms: number;
  meets_bar: boolean;
  /** The kernel's own time for the same requests: from the request's arrival (headers parsed) to
   * the last byte handed to the socket — what its heldar_http_request_duration_seconds measures.
   * The rest of api_* is the client process, loopback and the scheduling of both on 2 cores. */
  kernel_p50_ms: number;
  kernel_p99_ms: number;
  kernel_meets_bar: boolean;
  /** The floor of this harness: a bare node:http server in this process answering the same path
   * with the same body bytes, timed by the same kind of client process, in the same loop. */
  bare_http_p50_ms: number;
  bare_http_p99_ms: number;
  /** The same answer computed in-process the way main did before stored coverage (every segment). */
  before_p50_ms?: number;
  before_p99_ms?: number;
}

/** The HTTP client process: for each IPC message `{ path }`, one keep-alive GET; it answers with
 * `{ ms, status }` (ms: from the request to the parsed JSON body). */
const CLIENT = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const [host, port] = [process.env.HOST, Number(process.env.PORT)];
const get = (path) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  http.get({ host, port, path, agent }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      resolve({ ms: performance.now() - t0, status: res.statusCode });
    });
    res.on('error', reject);
  }).on('error', reject);
});
process.on('message', ({ path }) => {
  // A keep-alive socket the server closed meanwhile is retried once.
  get(path).catch(() => get(path)).then((r) => process.send(r), (e) => process.send({ error: String(e) }));
});
process.on('disconnect', () => process.exit(0));
`;

interface HttpClient {
  get(path: string): Promise<number>;
  close(): void;
}

function httpClient(port: number): HttpClient {
  const child: ChildProcess = spawn(process.execPath, ['-e', CLIENT], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    get: (path) =>
      new Promise<number>((resolve, reject) => {
        child.once('message', (m: { ms?: number; status?: number; error?: string }) => {
          if (m.error) reject(new Error(`${path}: ${m.error}`));
          else if (m.status !== 200) reject(new Error(`${path}: ${m.status}`));
          else resolve(m.ms!);
        });
        child.send({ path });
      }),
    close: () => child.kill('SIGTERM'),
  };
}

const elapsed = async (fn: () => unknown): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

/** Times each request the kernel's HTTP server handles while `on`: arrival (headers parsed) to
 * the response's last byte handed to the socket. */
function kernelTimer(server: Server): { on: boolean; times: number[]; stop(): void } {
  const timer = {
    on: false,
    times: [] as number[],
    stop: () => server.removeListener('request', listener),
  };
  const listener = (_req: IncomingMessage, res: ServerResponse) => {
    if (!timer.on) return;
    const t0 = performance.now();
    res.once('finish', () => timer.times.push(performance.now() - t0));
  };
  server.prependListener('request', listener);
  return timer;
}

/** 30 days of 60 s segments for every camera in the store (a 30 s one every 997th: holes), by one
 * INSERT … SELECT on the server, ending `endMs`; returns the seconds it took. */
async function fill(databaseUrl: string, sqlitePath: string, t0: number): Promise<number> {
  const now = new Date().toISOString();
  const started = performance.now();
  if (databaseUrl.startsWith('sqlite')) {
    const db = new BetterSqlite3(sqlitePath);
    db.pragma('journal_mode = WAL');
    const ts = (expr: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', (${expr}) / 1000.0, 'unixepoch')`;
    db.prepare(
      `INSERT INTO segments (id, camera_id, path, start_time, end_time, duration_s, codec, width, height, fps,
         size_bytes, container, locked, evidence_locked, incident_id, created_at)
       WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${PER_CAMERA - 1})
       SELECT 'seg_' || c.id || '_' || n.i, c.id, c.id || '/' || n.i || '.mp4',
         ${ts(`${t0} + n.i * 60000`)},
         ${ts(`${t0} + n.i * 60000 + CASE WHEN n.i % 997 = 0 THEN 30000 ELSE 60000 END`)},
         60, 'h264', 1920, 1080, 25, 2000000, 'mp4', 0, 0, NULL, ?
       FROM n CROSS JOIN cameras c ORDER BY n.i, c.id`,
    ).run(now);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  } else {
    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    const ts = (expr: string) =>
      `to_char(to_timestamp((${expr}) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    await pg.query(
      `INSERT INTO segments (id, camera_id, path, start_time, end_time, duration_s, codec, width, height, fps,
         size_bytes, container, locked, evidence_locked, incident_id, created_at)
       SELECT 'seg_' || c.id || '_' || n.i, c.id, c.id || '/' || n.i || '.mp4',
         ${ts(`${t0}::bigint + n.i::bigint * 60000`)},
         ${ts(`${t0}::bigint + n.i::bigint * 60000 + CASE WHEN n.i % 997 = 0 THEN 30000 ELSE 60000 END`)},
         60, 'h264', 1920, 1080, 25, 2000000, 'mp4', 0, false, NULL, $1
       FROM generate_series(0, ${PER_CAMERA - 1}) n(i) CROSS JOIN cameras c ORDER BY n.i, c.id`,
      [now],
    );
    await pg.query('ANALYZE');
    await pg.end();
  }
  return round((performance.now() - started) / 1000, 1);
}

/**
 * One store: `cameras` cameras × 30 days (the 64-camera SQLite store is cached under /tmp), then
 * the timeline, gaps and 1-hour segment list of one camera through HTTP and through the raw
 * driver, a retention sweep with nothing to delete, and boot to ready.
 */
async function benchStore(
  databaseUrl: string,
  dir: string,
  cameras: number,
): Promise<Record<string, unknown>> {
  const config = loadConfig({
    HELDAR_DATA_DIR: dir,
    HELDAR_DATABASE_URL: databaseUrl,
    HELDAR_LOG: 'warn',
    HELDAR_RECORDER_ENABLED: 'false',
    HELDAR_INDEXER_INTERVAL_S: '3600',
    HELDAR_RETENTION_INTERVAL_S: '86400',
    HELDAR_MAX_RECORDINGS_GB: '1000000',
    HELDAR_MIN_FREE_DISK_GB: '0',
  });
  const sqlite = databaseUrl.startsWith('sqlite');
  const ids = Array.from({ length: cameras }, (_, c) =>
    cameras === 1 ? 'bench' : `c${String(c).padStart(2, '0')}`,
  );
  const cam = ids[Math.floor(cameras / 2) - (cameras > 1 ? 1 : 0)]; // c31 at 64 cameras
  // Data ends now (minute-aligned), so a 31-day horizon has nothing to delete.
  let dataT0 = Math.floor(Date.now() / 60_000) * 60_000 - DAYS * 86_400_000;
  const out: Record<string, unknown> = { cameras, rows: cameras * PER_CAMERA };
  const useCache = sqlite && cameras === SCALE_CAMERAS;
  if (useCache && existsSync(SCALE_CACHE) && Date.now() - statSync(SCALE_CACHE).mtimeMs < 12 * 3_600_000) {
    copyFileSync(SCALE_CACHE, config.sqlitePath);
    const db = new BetterSqlite3(config.sqlitePath, { readonly: true });
    const row = db.prepare('SELECT MIN(start_time) AS t FROM segments WHERE camera_id = ?').get(cam) as {
      t: string;
    };
    db.close();
    dataT0 = Date.parse(row.t);
    out.cached = true;
  } else {
    const app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    for (const id of ids) {
      const res = await fetch(`${base}/api/v1/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id, name: id, retention_hours: 24 * (DAYS + 1) }),
      });
      if (res.status !== 201) throw new Error(`camera ${id}: ${res.status}`);
    }
    await app.close();
    out.insert_s = await fill(databaseUrl, config.sqlitePath, dataT0);
    // The segments went in raw: fill coverage and usage as the migration does on an upgrade.
    const app2 = await createApp(config);
    const runner = app2.get(DataSource).createQueryRunner();
    const migration = new Coverage1765700000000();
    const began = performance.now();
    await app2.get(DatabaseService).run(async () => {
      await migration.down(runner);
      await migration.up(runner);
    });
    out.migration_backfill_s = round((performance.now() - began) / 1000, 1);
    await runner.release();
    if (sqlite) await app2.get(DatabaseService).run((m) => m.query('PRAGMA wal_checkpoint(TRUNCATE)'));
    // VACUUM too, not only ANALYZE: a site's 30 days have been vacuumed many times over (the
    // visibility map lets the coverage read be index-only), and autovacuum, left to find 2.76M
    // fresh rows, would run through the measured requests. Then a CHECKPOINT, as SQLite's WAL is
    // checkpointed above: the load's dirty pages are written now, not by a checkpoint that falls
    // in the measured requests.
    else
      await app2.get(DatabaseService).run(async (m) => {
        await m.query('VACUUM ANALYZE');
        await m.query('CHECKPOINT');
      });
    await app2.close();
    if (useCache) copyFileSync(config.sqlitePath, SCALE_CACHE);
  }

  const bootStart = performance.now();
  const app = await createApp(config);
  out.create_app_ms = Math.round(performance.now() - bootStart);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  while ((await fetch(`${base}/readyz`)).status !== 200) await new Promise((r) => setTimeout(r, 20));
  out.boot_to_ready_ms = Math.round(performance.now() - bootStart);
  const raw = sqlite ? new BetterSqlite3(config.sqlitePath, { readonly: true }) : null;
  const pg = sqlite ? null : new Client({ connectionString: databaseUrl });
  await pg?.connect();
  let client: HttpClient | undefined;
  let bareClient: HttpClient | undefined;
  let bare: Server | undefined;
  const timer = kernelTimer(app.getHttpServer());
  const statements = new Map<string, BetterSqlite3.Statement>();
  const q = async (sql: string, params: unknown[]): Promise<unknown[]> => {
    if (raw) {
      let stmt = statements.get(sql);
      if (!stmt) statements.set(sql, (stmt = raw.prepare(sql)));
      return stmt.all(...params);
    }
    let i = 0;
    return (
      await pg!.query(
        sql.replace(/\?/g, () => `$${++i}`),
        params,
      )
    ).rows as unknown[];
  };
  try {
    const iso = (ms: number) => new Date(ms).toISOString();
    const from = iso(dataT0 + 7 * 60_000);
    const to = iso(dataT0 + DAYS * 86_400_000 - 3 * 60_000);
    const hourFrom = iso(dataT0 + 15 * 86_400_000 + 90_000);
    const hourTo = iso(Date.parse(hourFrom) + 3_600_000);
    const lower = (x: string) => iso(Date.parse(x) - 3_601_000);
    const whole = coverageWindow(Date.parse(from), Date.parse(to))!;
    const [wholeFrom, wholeTo] = [iso(whole.wholeFromMs), iso(whole.wholeToMs)];
    // The statements the kernel runs for each request, through the raw driver. The camera probe
    // is not among them: the kernel remembers a camera it found (it is asked once, at warm-up).
    const coverage = () =>
      q(COVERAGE_SPANS_SQL, [
        cam,
        lower(from),
        wholeFrom,
        from,
        cam,
        wholeFrom,
        wholeTo,
        cam,
        wholeTo,
        to,
        from,
      ]);
    const rawCases: Record<CaseName, () => Promise<unknown>> = {
      timeline_30_days: coverage,
      gaps_30_days: async () => {
        await coverage();
        await q(
          'SELECT gap_start, gap_end, cause FROM recording_gaps WHERE camera_id = ? AND gap_start < ? AND gap_end > ? ORDER BY gap_start ASC',
          [cam, to, from],
        );
        return q(
          'SELECT * FROM recorder_runs WHERE camera_id = ? AND ended_at >= ? AND ended_at <= ? ORDER BY ended_at ASC',
          [cam, lower(from), to],
        );
      },
      segments_1_hour: () =>
        q(
          `SELECT ${SEGMENT_COLUMNS} FROM segments WHERE camera_id = ? AND start_time < ? AND start_time > ? AND end_time > ? ORDER BY start_time ASC LIMIT ?`,
          [cam, hourTo, lower(hourFrom), hourFrom, 500],
        ),
    };
    const paths: Record<CaseName, string> = {
      timeline_30_days: `/api/v1/cameras/${cam}/timeline?from=${from}&to=${to}`,
      gaps_30_days: `/api/v1/cameras/${cam}/gaps?from=${from}&to=${to}`,
      segments_1_hour: `/api/v1/cameras/${cam}/segments?from=${hourFrom}&to=${hourTo}`,
    };
    const repo = app.get(TimelineRepository);
    const spansOf = async () =>
      (await repo.spans(cam, from, to, 200_000)).map((r) => ({
        startMs: Date.parse(r.start),
        endMs: Date.parse(r.end),
      }));
    const before: Partial<Record<CaseName, () => Promise<unknown>>> = {
      timeline_30_days: async () => mergeRanges(await spansOf()),
      gaps_30_days: async () => findHoles(await spansOf(), Date.parse(from), Date.parse(to)),
    };
    client = httpClient(port);
    const api = (path: string) => client!.get(path);
    let bareBody = Buffer.alloc(0);
    const started = await bareHttpServer('application/json; charset=utf-8', () => bareBody);
    bare = started.server;
    bareClient = httpClient(started.port);
    for (const name of Object.keys(paths) as CaseName[]) {
      // The bare server sends the kernel's own answer, byte for byte.
      bareBody = Buffer.from(await (await fetch(`http://127.0.0.1:${port}${paths[name]}`)).arrayBuffer());
      for (let i = 0; i < WARMUP; i++) {
        await api(paths[name]);
        await rawCases[name]();
        await bareClient.get(paths[name]);
      }
      const a: number[] = [];
      const r: number[] = [];
      const b: number[] = [];
      timer.times = [];
      for (let i = 0; i < RUNS; i++) {
        timer.on = true;
        a.push(await api(paths[name]));
        timer.on = false;
        r.push(await elapsed(rawCases[name]));
        b.push(await bareClient.get(paths[name]));
      }
      const k = timer.times;
      if (k.length !== RUNS) throw new Error(`${name}: the kernel timed ${k.length} of ${RUNS} requests`);
      const figure: TimelineQueryFigure = {
        api_p50_ms: round(pct(a, 50)),
        api_p99_ms: round(pct(a, 99)),
        raw_p50_ms: round(pct(r, 50)),
        raw_p99_ms: round(pct(r, 99)),
        ratio_p50: round(pct(a, 50) / pct(r, 50), 1),
        ratio_p99: round(pct(a, 99) / pct(r, 99), 1),
        bar_p99_ms: BAR_P99_MS[name],
        meets_bar: pct(a, 99) < BAR_P99_MS[name],
        kernel_p50_ms: round(pct(k, 50)),
        kernel_p99_ms: round(pct(k, 99)),
        kernel_meets_bar: pct(k, 99) < BAR_P99_MS[name],
        bare_http_p50_ms: round(pct(b, 50)),
        bare_http_p99_ms: round(pct(b, 99)),
      };
      const old = before[name];
      if (old) {
        const o: number[] = [];
        for (let i = 0; i < BEFORE_RUNS; i++) o.push(await elapsed(old));
        figure.before_p50_ms = round(pct(o, 50));
        figure.before_p99_ms = round(pct(o, 99));
      }
      out[name] = figure;
    }
    // A sweep with nothing to delete (the first sweep also lists the recordings root for orphans).
    const retention = app.get(RetentionService);
    const sweeps: number[] = [];
    for (let i = 0; i < 10; i++) {
      const rep = await retention.sweep();
      if (rep.errors.length > 0 || rep.age.deleted + rep.size_cap.deleted > 0)
        throw new Error(`sweep was not a no-op: ${JSON.stringify(rep)}`);
      if (i > 0) sweeps.push(rep.duration_ms);
    }
    const usage: number[] = [];
    for (let i = 0; i < 30; i++) usage.push(await elapsed(() => q('SELECT * FROM segment_usage', [])));
    out.retention_noop_sweep = {
      sweep_p50_ms: round(pct(sweeps, 50)),
      sweep_p99_ms: round(pct(sweeps, 99)),
      raw_usage_p50_ms: round(pct(usage, 50)),
      ratio_p50: round(pct(sweeps, 50) / Math.max(pct(usage, 50), 0.01), 1),
    };
    return out;
  } finally {
    client?.close();
    bareClient?.close();
    timer.stop();
    bare?.closeAllConnections();
    if (bare) await new Promise((r) => bare!.close(r));
    raw?.close();
    await pg?.end();
    await app.close();
  }
}

/** Both stores on one engine (PostgreSQL: a database each on one throwaway cluster). */
async function benchEngine(engine: 'sqlite' | 'postgres', pgUrl?: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const stores: Array<[string, number]> = [['one_camera', 1]];
  if (process.env.BENCH_SCALE64 !== '0') stores.push(['scale_64', SCALE_CAMERAS]);
  for (const [name, cameras] of stores) {
    const dir = mkdtempSync(join(tmpdir(), `heldar-bench-tl-${name}-`));
    try {
      let url = `sqlite://${join(dir, 'heldar.db')}`;
      if (engine === 'postgres') {
        const admin = new Client({ connectionString: pgUrl });
        await admin.connect();
        await admin.query(`CREATE DATABASE tl_${name}`);
        await admin.end();
        url = pgUrl!.replace(/\/[^/]*$/, `/tl_${name}`);
      }
      out[name] = await benchStore(url, dir, cameras);
      console.log(`timeline ${engine} ${name}:`, JSON.stringify(out[name]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

export async function benchTimeline(): Promise<Record<string, unknown>> {
  const sqlite = await benchEngine('sqlite');
  let postgres: unknown = 'skipped: PostgreSQL server binaries not installed';
  if (process.env.BENCH_TIMELINE_PG === '0') postgres = 'skipped (BENCH_TIMELINE_PG=0)';
  else {
    const script = resolve(__dirname, '..', '..', 'scripts', 'pg-test.sh');
    let cluster: string | undefined;
    try {
      const [url, clusterDir] = execFileSync('bash', [script, 'start'], { encoding: 'utf8' })
        .trim()
        .split(' ');
      cluster = clusterDir;
      postgres = await benchEngine('postgres', url);
    } catch (err) {
      if (cluster) throw err;
    } finally {
      if (cluster) execFileSync('bash', [script, 'stop', cluster]);
    }
  }
  return {
    what: '30 days of 60 s segments per camera; one camera queried; API (HTTP) vs the raw driver running the same statements',
    runs: RUNS,
    bars_p99_ms: BAR_P99_MS,
    sqlite,
    postgres,
  };
}
