import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col } from './helpers';

const BUCKET_MS = 3_600_000;
const JOIN_MS = 2000;
const PAGE = 50_000;
const INSERT_ROWS = 500;

interface Piece {
  start: number;
  end: number;
  count: number;
  lastStart: number;
}

/**
 * Stored coverage and per-camera usage, so the timeline, gaps and a retention sweep no longer
 * read every segment: `coverage` holds recorded ranges per camera and one-hour bucket (by
 * segment start; holes of 2 s or less joined, as the timeline joins them) and `segment_usage`
 * the count and bytes (all and protected) per camera. Both are filled from the existing segments
 * here, a page of rows at a time and whole buckets per page.
 */
export class Coverage1765700000000 implements MigrationInterface {
  name = 'Coverage1765700000000';

  /** `page`: segments read at a time by the backfill (small in tests, to cross page edges). */
  constructor(private readonly page = PAGE) {}

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'coverage',
        columns: [
          col('camera_id', 'text', { isPrimary: true }),
          col('start_time', 'text', { isPrimary: true }),
          col('end_time'),
          col('segment_count', 'integer'),
          col('last_start'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'segment_usage',
        columns: [
          col('camera_id', 'text', { isPrimary: true }),
          col('segment_count', 'integer', { default: 0 }),
          col('total_bytes', 'bigint', { default: 0 }),
          col('protected_count', 'integer', { default: 0 }),
          col('protected_bytes', 'bigint', { default: 0 }),
        ],
      }),
    );
    const sqlite = q.connection.driver.options.type === 'better-sqlite3';
    const p = (i: number) => (sqlite ? '?' : `$${i}`);
    const protectedRow = `(evidence_locked = ${sqlite ? 1 : 'true'} OR locked <> 0)`;
    await q.query(
      `INSERT INTO segment_usage (camera_id, segment_count, total_bytes, protected_count, protected_bytes)
       SELECT camera_id, COUNT(*), COALESCE(SUM(size_bytes), 0),
              SUM(CASE WHEN ${protectedRow} THEN 1 ELSE 0 END),
              COALESCE(SUM(CASE WHEN ${protectedRow} THEN size_bytes ELSE 0 END), 0)
       FROM segments GROUP BY camera_id`,
    );
    const cameras = (await q.query('SELECT camera_id FROM segment_usage')) as Array<{ camera_id: string }>;
    for (const { camera_id: cameraId } of cameras) {
      let cursor = '';
      for (;;) {
        const rows = (await q.query(
          `SELECT start_time, end_time FROM segments WHERE camera_id = ${p(1)} AND start_time >= ${p(2)}
           ORDER BY start_time LIMIT ${this.page}`,
          [cameraId, cursor],
        )) as Array<{ start_time: string; end_time: string }>;
        if (rows.length === 0) break;
        const full = rows.length === this.page;
        let take = rows;
        if (full) {
          // Whole buckets only: the last bucket of a full page is read again with the next page.
          const lastBucket = Math.floor(Date.parse(rows[rows.length - 1].start_time) / BUCKET_MS) * BUCKET_MS;
          take = rows.filter((r) => Date.parse(r.start_time) < lastBucket);
          cursor = new Date(lastBucket).toISOString();
          if (take.length === 0) {
            // One hour holds more than a page: read that hour whole.
            const next = new Date(lastBucket + BUCKET_MS).toISOString();
            take = (await q.query(
              `SELECT start_time, end_time FROM segments
               WHERE camera_id = ${p(1)} AND start_time >= ${p(2)} AND start_time < ${p(3)} ORDER BY start_time`,
              [cameraId, cursor, next],
            )) as typeof rows;
            cursor = next;
          }
        }
        const pieces: Piece[] = [];
        let bucket = NaN;
        for (const r of take) {
          const s = Date.parse(r.start_time);
          const e = Date.parse(r.end_time);
          const b = Math.floor(s / BUCKET_MS) * BUCKET_MS;
          const last = pieces[pieces.length - 1];
          if (last && b === bucket && s - last.end <= JOIN_MS) {
            last.end = Math.max(last.end, e);
            last.count++;
            last.lastStart = s;
          } else pieces.push({ start: s, end: e, count: 1, lastStart: s });
          bucket = b;
        }
        for (let i = 0; i < pieces.length; i += INSERT_ROWS) {
          const chunk = pieces.slice(i, i + INSERT_ROWS);
          const values = chunk.map((_, j) => `(${[1, 2, 3, 4, 5].map((k) => p(j * 5 + k)).join(', ')})`);
          await q.query(
            `INSERT INTO coverage (camera_id, start_time, end_time, segment_count, last_start) VALUES ${values.join(', ')}`,
            chunk.flatMap((x) => [
              cameraId,
              new Date(x.start).toISOString(),
              new Date(x.end).toISOString(),
              x.count,
              new Date(x.lastStart).toISOString(),
            ]),
          );
        }
        if (!full) break;
      }
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('segment_usage');
    await q.dropTable('coverage');
  }
}
