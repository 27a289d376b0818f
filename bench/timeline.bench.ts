import BetterSqlite3 from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
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

export async function benchTimeline(): Promise<{ rows: number; sqlite: unknown; postgres: unknown }> {
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
    return { rows: ROWS, sqlite, postgres };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
