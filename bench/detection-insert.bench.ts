import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { prefixedId } from '../src/common/ids';
import { loadConfig } from '../src/config/heldar-config';
import { type JsonObject, jsonText } from '../src/database/columns';
import { openDataSource } from '../src/database/data-source';
import { ENTITIES } from '../src/app.entities';
import { DatabaseService } from '../src/database/database.service';

/** Detection-shaped rows (reference §2 `detections`), time-ordered keys. */
@Entity('bench_detections')
class BenchDetection {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', name: 'task_type' }) taskType!: string;
  @Column({ type: 'text' }) timestamp!: string;
  @Column({ type: 'text' }) label!: string;
  @Column({ type: 'double precision' }) confidence!: number;
  @Column({ type: 'text', transformer: jsonText }) bbox!: number[];
  @Column({ type: 'text', name: 'track_id', nullable: true }) trackId!: string | null;
  @Column({ type: 'text', transformer: jsonText }) attributes!: JsonObject;
  @Column({ type: 'text', name: 'frame_id' }) frameId!: string;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
}

const DDL = `CREATE TABLE bench_detections (
  id TEXT PRIMARY KEY NOT NULL, camera_id TEXT NOT NULL, task_type TEXT NOT NULL, timestamp TEXT NOT NULL,
  label TEXT NOT NULL, confidence DOUBLE PRECISION NOT NULL, bbox TEXT NOT NULL, track_id TEXT,
  attributes TEXT NOT NULL, frame_id TEXT NOT NULL, created_at TEXT NOT NULL)`;
const INDEX = 'CREATE INDEX idx_bench_det_cam_ts ON bench_detections (camera_id, timestamp)';

function row(i: number): BenchDetection {
  const now = new Date(1_790_000_000_000 + i * 40).toISOString();
  return {
    id: prefixedId('det_'),
    cameraId: `cam_${i % 64}`,
    taskType: 'object_detection',
    timestamp: now,
    label: i % 3 ? 'person' : 'car',
    confidence: 0.5 + (i % 50) / 100,
    bbox: [0.1, 0.2, 0.3, 0.4],
    trackId: `t${i % 500}`,
    attributes: { color: 'red', source: 'worker' },
    frameId: `w:f${i}`,
    createdAt: now,
  };
}

export interface InsertResult {
  rows: number;
  batch: number;
  repository_rows_per_s: number;
  raw_rows_per_s: number;
  ratio: number;
}

/** 100k rows in batches of 100, one transaction per batch: the repository layer vs raw better-sqlite3. */
export async function benchDetectionInsert(total = 100_000, batch = 100): Promise<InsertResult> {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-'));
  // Rows are made before timing so both sides measure only the insert path.
  const batches = Array.from({ length: Math.ceil(total / batch) }, (_, b) =>
    Array.from({ length: Math.min(batch, total - b * batch) }, (_, j) => row(b * batch + j)),
  );
  try {
    // Raw driver, same pragmas as the kernel.
    const raw = new BetterSqlite3(join(dir, 'raw.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec(DDL);
    raw.exec(INDEX);
    const stmt = raw.prepare(
      'INSERT INTO bench_detections (id, camera_id, task_type, timestamp, label, confidence, bbox, track_id, attributes, frame_id, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
    );
    const insertMany = raw.transaction((rows: BenchDetection[]) => {
      for (const r of rows) {
        stmt.run(
          r.id,
          r.cameraId,
          r.taskType,
          r.timestamp,
          r.label,
          r.confidence,
          JSON.stringify(r.bbox),
          r.trackId,
          JSON.stringify(r.attributes),
          r.frameId,
          r.createdAt,
        );
      }
    });
    let t0 = performance.now();
    for (const rows of batches) insertMany(rows);
    const rawS = (performance.now() - t0) / 1000;
    raw.close();

    // The kernel's path: DatabaseService.transaction + a TypeORM repository insert per batch.
    const cfg = loadConfig({ HELDAR_DATA_DIR: dir, HELDAR_DATABASE_URL: `sqlite://${join(dir, 'repo.db')}` });
    const ds = await openDataSource(cfg, [...ENTITIES, BenchDetection]);
    await ds.query(DDL);
    await ds.query(INDEX);
    const db = new DatabaseService(ds);
    t0 = performance.now();
    for (const rows of batches) {
      await db.transaction((m) => m.getRepository(BenchDetection).insert(rows));
    }
    const repoS = (performance.now() - t0) / 1000;
    const count = Number((await ds.query('SELECT COUNT(*) AS n FROM bench_detections'))[0].n);
    await ds.destroy();
    if (count !== total) throw new Error(`expected ${total} rows, found ${count}`);

    const repo = total / repoS;
    const rawRate = total / rawS;
    return {
      rows: total,
      batch,
      repository_rows_per_s: Math.round(repo),
      raw_rows_per_s: Math.round(rawRate),
      ratio: Math.round((repo / rawRate) * 1000) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
