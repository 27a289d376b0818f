import BetterSqlite3 from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Coverage1765700000000 } from '../migrations/1765700000000-coverage';
import { MIGRATIONS } from '../migrations';
import { RetentionService } from '../src/retention/retention.service';
import { findHoles, mergeRanges } from '../src/timeline/timeline-logic';
import { TimelineRepository } from '../src/timeline/timeline.repository';
import { pct as pctOf, round } from './stats';
import { createApp } from '../src/app.factory';
import { prefixedId } from '../src/common/ids';
import { loadConfig } from '../src/config/heldar-config';
import { Database } from '../src/database/database.service';
import { SegmentEntity } from '../src/timeline/entities/segment.entity';

const ROWS = 43_200; // 30 days of 60 s segments
const RUNS = 40;
const SPAN = 'start_time, end_time';

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return { p50: pct(ms, 50), p99: pct(ms, 99) };
}

export interface TimelineQueryFigure {
  api_p50_ms: number;
  api_p99_ms: number;
  raw_p50_ms: number;
  ratio_p50: number;
}

/** The timeline and segments APIs for one camera with 30 days of 60 s segments, against the
 * same SQL through the raw driver in the same run. */
async function benchEngine(databaseUrl: string, dir: string): Promise<Record<string, TimelineQueryFigure>> {
  const config = loadConfig({
    HELDAR_DATA_DIR: dir,
    HELDAR_DATABASE_URL: databaseUrl,
    HELDAR_LOG: 'warn',
    HELDAR_RECORDER_ENABLED: 'false',
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  try {
    await fetch(`${base}/api/v1/cameras`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'bench', name: 'Bench' }),
    });
    const t0 = Date.UTC(2026, 9, 1);
    const db = app.get(Database);
    for (let b = 0; b < ROWS; b += 500) {
      const rows: SegmentEntity[] = [];
      for (let i = b; i < Math.min(ROWS, b + 500); i++) {
        const start = t0 + i * 60_000;
        rows.push({
          id: prefixedId('seg_'),
          cameraId: 'bench',
          path: `bench/${i}.mp4`,
          startTime: new Date(start).toISOString(),
          endTime: new Date(start + (i % 997 === 0 ? 30_000 : 60_000)).toISOString(), // a few holes
          durationS: 60,
          codec: 'h264',
          width: 1920,
          height: 1080,
          fps: 25,
          sizeBytes: 30_000_000,
          container: 'mp4',
          locked: 0,
          evidenceLocked: false,
          incidentId: null,
          createdAt: new Date().toISOString(),
        });
      }
      await db.transaction((m) => m.getRepository(SegmentEntity).insert(rows));
    }
    // Fold the bulk load into the main file so both connections read the same pages.
    if (db.isSqlite) await db.run((m) => m.query('PRAGMA wal_checkpoint(TRUNCATE)'));
    else await db.run((m) => m.query('ANALYZE segments'));
    const day = (d: number) => new Date(t0 + d * 86_400_000).toISOString();
    const hour = new Date(t0 + 15 * 86_400_000 + 3_600_000).toISOString();
    const api = (path: string) => async () => {
      const res = await fetch(`${base}${path}`);
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      await res.json();
    };
    // The raw driver answering the same questions (rows the API reads, ordered the same way).
    const sqlite = databaseUrl.startsWith('sqlite')
      ? new BetterSqlite3(config.sqlitePath, { readonly: true })
      : null;
    const pg = sqlite ? null : new Client({ connectionString: databaseUrl });
    await pg?.connect();
    const rawRange = async (from: string, to: string, columns = '*') => {
      // The best plain query: bounded on both sides of the (camera_id, start_time) index.
      const lower = new Date(Date.parse(from) - 3_601_000).toISOString();
      const sql = `SELECT ${columns} FROM segments WHERE camera_id = $1 AND start_time < $2 AND start_time > $3 AND end_time > $4 ORDER BY start_time`;
      if (sqlite) return sqlite.prepare(sql.replace(/\$\d/g, '?')).all('bench', to, lower, from);
      return (await pg!.query(sql, ['bench', to, lower, from])).rows;
    };
    const rawNewest = async () => {
      const sql = 'SELECT * FROM segments WHERE camera_id = $1 ORDER BY start_time DESC LIMIT 500';
      if (sqlite) return sqlite.prepare(sql.replace(/\$\d/g, '?')).all('bench');
      return (await pg!.query(sql, ['bench'])).rows;
    };
    // timeline and gaps read only the start and end of each segment (SPAN); segments read whole rows
    const cases: Record<string, [() => Promise<unknown>, () => Promise<unknown>]> = {
      timeline_30_days: [
        api(`/api/v1/cameras/bench/timeline?from=${day(0)}&to=${day(30)}`),
        () => rawRange(day(0), day(30), SPAN),
      ],
      timeline_1_day: [
        api(`/api/v1/cameras/bench/timeline?from=${day(15)}&to=${day(16)}`),
        () => rawRange(day(15), day(16), SPAN),
      ],
      gaps_1_day: [
        api(`/api/v1/cameras/bench/gaps?from=${day(15)}&to=${day(16)}`),
        () => rawRange(day(15), day(16), SPAN),
      ],
      segments_1_hour: [
        api(`/api/v1/cameras/bench/segments?from=${day(15)}&to=${hour}`),
        () => rawRange(day(15), hour),
      ],
      segments_newest_500: [api('/api/v1/cameras/bench/segments'), rawNewest],
    };
    const out: Record<string, TimelineQueryFigure> = {};
    for (const [name, [viaApi, viaRaw]] of Object.entries(cases)) {
      await viaApi();
      await viaRaw();
      const a = await time(name === 'timeline_30_days' ? 10 : RUNS, viaApi);
      const r = await time(name === 'timeline_30_days' ? 10 : RUNS, viaRaw);
      out[name] = {
        api_p50_ms: a.p50,
        api_p99_ms: a.p99,
        raw_p50_ms: r.p50,
        ratio_p50: Math.round((a.p50 / r.p50) * 10) / 10,
      };
    }
    sqlite?.close();
    await pg?.end();
    return out;
  } finally {
    await app.close();
  }
}

export async function benchTimeline(): Promise<{
  rows: number;
  sqlite: unknown;
  postgres: unknown;
  scale_64: unknown;
}> {
  const scale_64 = process.env.BENCH_SCALE64 === '0' ? 'skipped (BENCH_SCALE64=0)' : await benchScale64();
  if (process.env.BENCH_TIMELINE_SCALE_ONLY === '1')
    return { rows: ROWS, sqlite: null, postgres: null, scale_64 };
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-tl-'));
  try {
    const sqlite = await benchEngine(`sqlite://${join(dir, 'heldar.db')}`, dir);
    let postgres: unknown = 'skipped: PostgreSQL server binaries not installed';
    const script = resolve(__dirname, '..', '..', 'scripts', 'pg-test.sh');
    let cluster: string | undefined;
    try {
      const [url, clusterDir] = execFileSync('bash', [script, 'start'], { encoding: 'utf8' })
        .trim()
        .split(' ');
      cluster = clusterDir;
      postgres = await benchEngine(url, mkdtempSync(join(tmpdir(), 'heldar-bench-tlpg-')));
    } catch (err) {
      if (cluster) throw err;
    } finally {
      if (cluster) execFileSync('bash', [script, 'stop', cluster]);
    }
    return { rows: ROWS, sqlite, postgres, scale_64 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SCALE_CAMERAS = 64;
const SCALE_DAYS = 30;
const SCALE_PER_CAMERA = SCALE_DAYS * 1440; // 60 s segments
const SCALE_RUNS = 30;
const SCALE_CACHE = join(tmpdir(), `heldar-bench-scale64-v1-m${MIGRATIONS.length}.db`);

export interface ScaleQueryFigure {
  api_p50_ms: number;
  api_p99_ms: number;
  /** The same answer computed in-process the way main did before stored coverage (every segment). */
  before_p50_ms: number;
  before_p99_ms: number;
  /** The raw driver reading the rows the API now reads. */
  raw_p50_ms: number;
  ratio_p50: number;
}

async function timed(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  await fn();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return { p50: round(pctOf(ms, 50)), p99: round(pctOf(ms, 99)) };
}

/** 64 cameras × 30 days of 60 s segments (2.76M rows), written by one INSERT … SELECT on the server. */
async function fillScale(
  databaseUrl: string,
  config: ReturnType<typeof loadConfig>,
  t0: number,
): Promise<{ insert_s: number }> {
  const now = new Date().toISOString();
  const started = performance.now();
  if (databaseUrl.startsWith('sqlite')) {
    const db = new BetterSqlite3(config.sqlitePath);
    db.pragma('journal_mode = WAL');
    const ts = (expr: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', (${expr}) / 1000.0, 'unixepoch')`;
    db.prepare(
      `INSERT INTO segments (id, camera_id, path, start_time, end_time, duration_s, codec, width, height, fps,
         size_bytes, container, locked, evidence_locked, incident_id, created_at)
       WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${SCALE_PER_CAMERA - 1})
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
       FROM generate_series(0, ${SCALE_PER_CAMERA - 1}) n(i) CROSS JOIN cameras c ORDER BY n.i, c.id`,
      [now],
    );
    await pg.query('ANALYZE');
    await pg.end();
  }
  return { insert_s: round((performance.now() - started) / 1000, 1) };
}

/**
 * The database alone at 64 cameras × 30 days: timeline, gaps, a 1-hour segment list, a retention
 * sweep with nothing to delete and boot, on a store holding 2.76M segment rows; each query also
 * answered the way main answered it before stored coverage (every segment of the window) and by
 * the raw driver (the rows the API now reads).
 */
async function benchScaleEngine(databaseUrl: string, dir: string): Promise<Record<string, unknown>> {
  const env = {
    HELDAR_DATA_DIR: dir,
    HELDAR_DATABASE_URL: databaseUrl,
    HELDAR_LOG: 'warn',
    HELDAR_RECORDER_ENABLED: 'false',
    HELDAR_INDEXER_INTERVAL_S: '3600',
    HELDAR_RETENTION_INTERVAL_S: '86400',
    HELDAR_MAX_RECORDINGS_GB: '1000000',
    HELDAR_MIN_FREE_DISK_GB: '0',
  };
  const config = loadConfig(env);
  const sqlite = databaseUrl.startsWith('sqlite');
  // Data ends now (minute-aligned), so a 31-day horizon has nothing to delete.
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - SCALE_DAYS * 86_400_000;
  const out: Record<string, unknown> = { cameras: SCALE_CAMERAS, rows: SCALE_CAMERAS * SCALE_PER_CAMERA };
  let cached = false;
  if (sqlite && existsSync(SCALE_CACHE) && Date.now() - statSync(SCALE_CACHE).mtimeMs < 12 * 3_600_000) {
    copyFileSync(SCALE_CACHE, config.sqlitePath);
    cached = true;
  }
  let dataT0 = t0;
  if (!cached) {
    const app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    for (let c = 0; c < SCALE_CAMERAS; c++) {
      const id = `c${String(c).padStart(2, '0')}`;
      const res = await fetch(`${base}/api/v1/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id, name: id, retention_hours: 24 * (SCALE_DAYS + 1) }),
      });
      if (res.status !== 201) throw new Error(`camera ${id}: ${res.status}`);
    }
    await app.close();
    out.insert = await fillScale(databaseUrl, config, t0);
    // The segments went in raw: fill coverage and usage as the migration does on an upgrade.
    const app2 = await createApp(config);
    const runner = app2.get(DataSource).createQueryRunner();
    const migration = new Coverage1765700000000();
    const began = performance.now();
    await app2.get(Database).run(async () => {
      await migration.down(runner);
      await migration.up(runner);
    });
    out.migration_backfill_s = round((performance.now() - began) / 1000, 1);
    await runner.release();
    if (sqlite) await app2.get(Database).run((m) => m.query('PRAGMA wal_checkpoint(TRUNCATE)'));
    else await app2.get(Database).run((m) => m.query('ANALYZE'));
    await app2.close();
    if (sqlite) copyFileSync(config.sqlitePath, SCALE_CACHE);
  } else {
    const db = new BetterSqlite3(config.sqlitePath, { readonly: true });
    const row = db.prepare("SELECT MIN(start_time) AS t FROM segments WHERE camera_id = 'c00'").get() as {
      t: string;
    };
    db.close();
    dataT0 = Date.parse(row.t);
    out.cached = true;
  }

  const bootStart = performance.now();
  const app = await createApp(config);
  out.create_app_ms = Math.round(performance.now() - bootStart);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  while ((await fetch(`${base}/readyz`)).status !== 200) await new Promise((r) => setTimeout(r, 20));
  out.boot_to_ready_ms = Math.round(performance.now() - bootStart);
  const raw = sqlite ? new BetterSqlite3(config.sqlitePath, { readonly: true }) : null;
  const pg = sqlite ? null : new Client({ connectionString: databaseUrl });
  await pg?.connect();
  const q = async (sql: string, params: unknown[]) => {
    if (raw) return raw.prepare(sql.replace(/\$\d+/g, '?')).all(...params);
    return (await pg!.query(sql, params)).rows;
  };
  try {
    const cam = 'c31';
    const from = new Date(dataT0 + 7 * 60_000).toISOString();
    const to = new Date(dataT0 + SCALE_DAYS * 86_400_000 - 3 * 60_000).toISOString();
    const hourFrom = new Date(dataT0 + 15 * 86_400_000 + 90_000).toISOString();
    const hourTo = new Date(Date.parse(hourFrom) + 3_600_000).toISOString();
    const repo = app.get(TimelineRepository);
    const spansOf = async (a: string, b: string) =>
      (await repo.spans(cam, a, b, 200_000)).map((r) => ({
        startMs: Date.parse(r.start),
        endMs: Date.parse(r.end),
      }));
    const api = (path: string) => async () => {
      // A keep-alive socket the server closed while the in-process figures ran is retried once.
      const res = await fetch(`${base}${path}`).catch(() => fetch(`${base}${path}`));
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      await res.json();
    };
    const lower = (iso: string) => new Date(Date.parse(iso) - 3_601_000).toISOString();
    const rawCoverage = () =>
      q(
        'SELECT start_time, end_time, segment_count FROM coverage WHERE camera_id = $1 AND start_time >= $2 AND start_time < $3 ORDER BY start_time',
        [cam, from, to],
      );
    const cases: Record<string, [() => Promise<unknown>, () => Promise<unknown>, () => Promise<unknown>]> = {
      timeline_30_days: [
        api(`/api/v1/cameras/${cam}/timeline?from=${from}&to=${to}`),
        async () => mergeRanges(await spansOf(from, to)),
        rawCoverage,
      ],
      gaps_30_days: [
        api(`/api/v1/cameras/${cam}/gaps?from=${from}&to=${to}`),
        async () => findHoles(await spansOf(from, to), Date.parse(from), Date.parse(to)),
        rawCoverage,
      ],
      segments_1_hour: [
        api(`/api/v1/cameras/${cam}/segments?from=${hourFrom}&to=${hourTo}`),
        () => repo.segments(cam, hourFrom, hourTo, 500),
        () =>
          q(
            'SELECT * FROM segments WHERE camera_id = $1 AND start_time < $2 AND start_time > $3 AND end_time > $4 ORDER BY start_time LIMIT 500',
            [cam, hourTo, lower(hourFrom), hourFrom],
          ),
      ],
    };
    for (const [name, [viaApi, before, viaRaw]] of Object.entries(cases)) {
      const a = await timed(SCALE_RUNS, viaApi);
      const b = await timed(name === 'segments_1_hour' ? SCALE_RUNS : 10, before);
      const r = await timed(SCALE_RUNS, viaRaw);
      out[name] = {
        api_p50_ms: a.p50,
        api_p99_ms: a.p99,
        before_p50_ms: b.p50,
        before_p99_ms: b.p99,
        raw_p50_ms: r.p50,
        ratio_p50: round(a.p50 / r.p50, 1),
      } satisfies ScaleQueryFigure;
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
    // What main's sweep read: the usage aggregate over every segment and one age query per camera.
    const cutoff = new Date(Date.now() - (SCALE_DAYS + 1) * 86_400_000).toISOString();
    const no = sqlite ? '0' : 'false';
    const beforeStarted = performance.now();
    await (async () => {
      await q(
        `SELECT camera_id, COALESCE(SUM(size_bytes), 0) AS total,
           COALESCE(SUM(CASE WHEN evidence_locked = ${no} AND locked = 0 THEN size_bytes ELSE 0 END), 0) AS deletable,
           SUM(CASE WHEN evidence_locked = ${no} AND locked = 0 THEN 1 ELSE 0 END) AS n
         FROM segments GROUP BY camera_id`,
        [],
      );
      for (let c = 0; c < SCALE_CAMERAS; c++) {
        await q(
          `SELECT id, camera_id, path, size_bytes FROM segments WHERE evidence_locked = ${no} AND locked = 0 AND camera_id = $1 AND end_time < $2 ORDER BY end_time LIMIT 500`,
          [`c${String(c).padStart(2, '0')}`, cutoff],
        );
      }
    })();
    const beforeSweepMs = round(performance.now() - beforeStarted);
    const rawUsage = await timed(SCALE_RUNS, () => q('SELECT * FROM segment_usage', []));
    const sweepP50 = round(pctOf(sweeps, 50));
    out.retention_noop_sweep = {
      sweep_p50_ms: sweepP50,
      sweep_p99_ms: round(pctOf(sweeps, 99)),
      /** One run of main's sweep queries (they take tens of seconds at this size). */
      before_queries_ms: beforeSweepMs,
      raw_usage_p50_ms: rawUsage.p50,
      ratio_p50: round(sweepP50 / Math.max(rawUsage.p50, 0.01), 1),
    };
    return out;
  } finally {
    raw?.close();
    await pg?.end();
    await app.close();
  }
}

/** The scale_64 part on SQLite (cached under /tmp) and on a throwaway PostgreSQL cluster. */
export async function benchScale64(): Promise<{ sqlite: unknown; postgres: unknown }> {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-s64-'));
  try {
    const sqlite = await benchScaleEngine(`sqlite://${join(dir, 'heldar.db')}`, dir);
    console.log('scale_64 sqlite:', JSON.stringify(sqlite));
    let postgres: unknown = 'skipped: PostgreSQL server binaries not installed';
    if (process.env.BENCH_SCALE_PG === '0') return { sqlite, postgres: 'skipped (BENCH_SCALE_PG=0)' };
    const script = resolve(__dirname, '..', '..', 'scripts', 'pg-test.sh');
    let cluster: string | undefined;
    try {
      const [url, clusterDir] = execFileSync('bash', [script, 'start'], { encoding: 'utf8' })
        .trim()
        .split(' ');
      cluster = clusterDir;
      postgres = await benchScaleEngine(url, mkdtempSync(join(tmpdir(), 'heldar-bench-s64pg-')));
    } catch (err) {
      if (cluster) throw err;
    } finally {
      if (cluster) execFileSync('bash', [script, 'stop', cluster]);
    }
    return { sqlite, postgres };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
