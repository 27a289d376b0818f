import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RowRetention } from '../common/row-retention';
import {
  type EntityManager,
  In,
  Not,
  type ObjectLiteral,
  type Repository,
  type SelectQueryBuilder,
} from 'typeorm';
import { prefixedId } from '../common/ids';
import type { GapCause } from '../common/gap-cause';
import { DatabaseService } from '../database/database.service';
import { CoverageEntity } from './entities/coverage.entity';
import { IndexedDayEntity } from './entities/indexed-day.entity';
import { RecordingGapEntity } from './entities/recording-gap.entity';
import { SegmentUsageEntity } from './entities/segment-usage.entity';
import { SegmentEntity } from './entities/segment.entity';
import {
  bucketOf,
  COVERAGE_BUCKET_MS,
  type CoveragePiece,
  coverageInsert,
  coveragePieces,
  coverageWindow,
  dayOfPath,
  type DayState,
  type RecordedGap,
} from './timeline-logic';

/** Segments are clamped to 3600 s, so none that overlaps `from` starts more than an hour before it. */
const MAX_SEGMENT_MS = 3_600_000;
const lowerBound = (fromIso: string) => new Date(Date.parse(fromIso) - MAX_SEGMENT_MS - 1000).toISOString();
const iso = (ms: number) => new Date(ms).toISOString();
/** Segment rows per multi-row INSERT (16 parameters each: well under both engines' limits). */
const INSERT_CHUNK = 200;

/** Evidence-locked or read-locked by an export: retention may not delete it. */
const isProtected = (s: { evidenceLocked: boolean; locked: number }) => s.evidenceLocked || s.locked > 0;

/** A change to the per-camera usage row (added to it). */
interface UsageDelta {
  count: number;
  bytes: number;
  protectedCount: number;
  protectedBytes: number;
}

const toPiece = (c: CoverageEntity): CoveragePiece => ({
  startMs: Date.parse(c.startTime),
  endMs: Date.parse(c.endTime),
  count: c.segmentCount,
  lastStartMs: Date.parse(c.lastStart),
});

const fromPiece = (cameraId: string, p: CoveragePiece): CoverageEntity => ({
  cameraId,
  startTime: iso(p.startMs),
  endTime: iso(p.endMs),
  segmentCount: p.count,
  lastStart: iso(p.lastStartMs),
});

export interface SegmentUsageRow {
  cameraId: string;
  totalBytes: number;
  protectedBytes: number;
  deletableBytes: number;
  deletableCount: number;
}

export interface DeletedSegment {
  id: string;
  cameraId: string;
  path: string;
  sizeBytes: number;
}

/** Neither evidence-locked nor read-locked by an export. */
const DELETABLE = 's.evidence_locked = :no AND s.locked = 0';

/** A segments row as the driver returns it (PostgreSQL: BIGINT as a string; SQLite: booleans as 0/1). */
interface SegmentRow {
  id: string;
  camera_id: string;
  path: string;
  start_time: string;
  end_time: string;
  duration_s: number;
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  size_bytes: number | string;
  container: string;
  locked: number;
  evidence_locked: boolean | number;
  incident_id: string | null;
  created_at: string;
  kept_by: string | null;
  node_id: string | null;
}

export const SEGMENT_COLUMNS =
  'id, camera_id, path, start_time, end_time, duration_s, codec, width, height, fps, size_bytes, container, locked, evidence_locked, incident_id, created_at, kept_by, node_id';

/** A driver row as the entity TypeORM would have built (same transforms: bigint → number, 0/1 → boolean). */
const toSegment = (r: SegmentRow): SegmentEntity => ({
  id: r.id,
  cameraId: r.camera_id,
  path: r.path,
  startTime: r.start_time,
  endTime: r.end_time,
  durationS: r.duration_s,
  codec: r.codec,
  width: r.width,
  height: r.height,
  fps: r.fps,
  sizeBytes: Number(r.size_bytes),
  container: r.container,
  locked: r.locked,
  evidenceLocked: Boolean(r.evidence_locked),
  incidentId: r.incident_id,
  createdAt: r.created_at,
  keptBy: r.kept_by,
  // The node whose disk holds the file: an export or a playback reads another node's through it.
  nodeId: r.node_id,
});

/** The recorded spans of a window: the segments of its edges and the coverage pieces between
 * (every piece starts in [wholeFrom, wholeTo), every head segment before, every tail one after). */
export const COVERAGE_SPANS_SQL = `SELECT start_time, end_time, 1 AS n FROM segments
   WHERE camera_id = ? AND start_time > ? AND start_time < ? AND end_time > ?
 UNION ALL
 SELECT start_time, end_time, segment_count AS n FROM coverage
   WHERE camera_id = ? AND start_time >= ? AND start_time < ?
 UNION ALL
 SELECT start_time, end_time, 1 AS n FROM segments
   WHERE camera_id = ? AND start_time >= ? AND start_time < ? AND end_time > ?
 ORDER BY start_time`;

/** The latest coverage piece of one camera's hour bucket (`b`: the bucket's start, ms), or null. */
function lastPieceOfBucket(
  repo: Repository<CoverageEntity>,
  cameraId: string,
  b: number,
): Promise<CoverageEntity | null> {
  return repo
    .createQueryBuilder('c')
    .where('c.camera_id = :cameraId AND c.start_time >= :lo AND c.start_time < :hi', {
      cameraId,
      lo: iso(b),
      hi: iso(b + COVERAGE_BUCKET_MS),
    })
    .orderBy('c.start_time', 'DESC')
    .limit(1)
    .getOne();
}

@Injectable()
export class TimelineRepository implements OnModuleInit {
  constructor(
    private readonly db: DatabaseService,
    private readonly rowRetention: RowRetention,
  ) {}

  /** A read written with `?` placeholders, prepared (see `DatabaseService.select`). The timeline's reads
   * go this way: query building and entity hydration were most of a request's cost. */
  private select<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    return this.db.select<T>(sql, params);
  }

  onModuleInit(): void {
    // Gaps of footage that is long gone; nothing re-fills them (no edge replay yet).
    this.rowRetention.register({
      name: 'recording_gaps',
      ttl: 'audit',
      prune: (cutoff) => this.db.deleteInBatches(RecordingGapEntity, 'id', 'x.gap_end < :cutoff', { cutoff }),
    });
  }

  /** Bytes per camera: all, protected (evidence- or read-locked) and deletable. One row per
   * camera from `segment_usage` (kept with every change to the segments), never an aggregate. */
  async usageByCamera(): Promise<SegmentUsageRow[]> {
    const rows = await this.db.run((m) =>
      m
        .getRepository(SegmentUsageEntity)
        .createQueryBuilder('u')
        .where('u.segment_count > 0')
        .orderBy('u.camera_id', 'ASC')
        .getMany(),
    );
    return rows.map((u) => ({
      cameraId: u.cameraId,
      totalBytes: u.totalBytes,
      protectedBytes: u.protectedBytes,
      deletableBytes: u.totalBytes - u.protectedBytes,
      deletableCount: u.segmentCount - u.protectedCount,
    }));
  }

  /** The same figures as `usageByCamera` for the segments whose file is on `node`'s disk (and
   * rows without a node), optionally only of `cameraIds`: an aggregate over those rows
   * (`segment_usage` sums every node's). Per-node storage only, when a limit may be exceeded. */
  async usageOnNode(node: string, cameraIds?: readonly string[]): Promise<SegmentUsageRow[]> {
    if (cameraIds && cameraIds.length === 0) return [];
    const held = '(s.evidence_locked = :yes OR s.locked > 0)';
    const rows = await this.db.run((m) => {
      const qb = onNode(
        m
          .getRepository(SegmentEntity)
          .createQueryBuilder('s')
          .select('s.camera_id', 'camera_id')
          .addSelect('COUNT(*)', 'n')
          .addSelect('COALESCE(SUM(s.size_bytes), 0)', 'bytes')
          .addSelect(`COALESCE(SUM(CASE WHEN ${held} THEN 1 ELSE 0 END), 0)`, 'held_n')
          .addSelect(`COALESCE(SUM(CASE WHEN ${held} THEN s.size_bytes ELSE 0 END), 0)`, 'held_bytes')
          .setParameter('yes', true),
        node,
      );
      if (cameraIds) qb.andWhere('s.camera_id IN (:...cameraIds)', { cameraIds: [...cameraIds] });
      return qb.groupBy('s.camera_id').getRawMany<{
        camera_id: string;
        n: string | number;
        bytes: string | number;
        held_n: string | number;
        held_bytes: string | number;
      }>();
    });
    return rows
      .map((r) => ({
        cameraId: r.camera_id,
        totalBytes: Number(r.bytes),
        protectedBytes: Number(r.held_bytes),
        deletableBytes: Number(r.bytes) - Number(r.held_bytes),
        deletableCount: Number(r.n) - Number(r.held_n),
      }))
      .sort((x, y) => (x.cameraId < y.cameraId ? -1 : x.cameraId > y.cameraId ? 1 : 0));
  }

  /** Count and oldest/newest times of the segments, optionally only of `cameraIds`: the usage
   * rows plus two index seeks per camera (or one for the newest end of all). */
  async totals(
    cameraIds: readonly string[] | null,
  ): Promise<{ count: number; oldest: string | null; newest: string | null }> {
    if (cameraIds && cameraIds.length === 0) return { count: 0, oldest: null, newest: null };
    return this.db.run(async (m) => {
      const qb = m.getRepository(SegmentUsageEntity).createQueryBuilder('u').where('u.segment_count > 0');
      if (cameraIds) qb.andWhere('u.camera_id IN (:...cameraIds)', { cameraIds: [...cameraIds] });
      const usage = await qb.getMany();
      let oldest: string | null = null;
      let newest: string | null = null;
      for (const u of usage) {
        const first = await this.firstStartIn(m, u.cameraId);
        if (first !== null && (oldest === null || first < oldest)) oldest = first;
        if (cameraIds) {
          const last = await this.lastEndIn(m, u.cameraId);
          if (last !== null && (newest === null || last > newest)) newest = last;
        }
      }
      if (!cameraIds && usage.length > 0) {
        const row = await m
          .getRepository(SegmentEntity)
          .createQueryBuilder('s')
          .select('MAX(s.end_time)', 'max')
          .getRawOne<{ max: string | null }>();
        newest = row?.max ?? null;
      }
      return { count: usage.reduce((n, u) => n + u.segmentCount, 0), oldest, newest };
    });
  }

  private async firstStartIn(m: EntityManager, cameraId: string): Promise<string | null> {
    const row = await m
      .getRepository(SegmentEntity)
      .createQueryBuilder('s')
      .select('MIN(s.start_time)', 'min')
      .where('s.camera_id = :cameraId', { cameraId })
      .getRawOne<{ min: string | null }>();
    return row?.min ?? null;
  }

  /** Latest end of the camera's segments: its last start, then the segments of the hour before. */
  private async lastEndIn(m: EntityManager, cameraId: string): Promise<string | null> {
    const seg = m.getRepository(SegmentEntity);
    const last = await seg
      .createQueryBuilder('s')
      .select('MAX(s.start_time)', 'max')
      .where('s.camera_id = :cameraId', { cameraId })
      .getRawOne<{ max: string | null }>();
    if (!last?.max) return null;
    const row = await seg
      .createQueryBuilder('s')
      .select('MAX(s.end_time)', 'max')
      .where('s.camera_id = :cameraId AND s.start_time > :lower', { cameraId, lower: lowerBound(last.max) })
      .getRawOne<{ max: string | null }>();
    return row?.max ?? null;
  }

  /** Bytes of the segments per camera that ended at or after `sinceIso` (the write rate). Per
   * camera holding segments, a range of its camera/start index (a segment ending after `since`
   * started at most an hour before it): O(rows in the window), never a scan of all history. */
  async bytesEndedSince(sinceIso: string): Promise<Map<string, number>> {
    return this.db.run(async (m) => {
      const cams = await m
        .getRepository(SegmentUsageEntity)
        .createQueryBuilder('u')
        .select('u.camera_id', 'camera_id')
        .where('u.segment_count > 0')
        .getRawMany<{ camera_id: string }>();
      const out = new Map<string, number>();
      for (const { camera_id: cameraId } of cams) {
        const row = await m
          .getRepository(SegmentEntity)
          .createQueryBuilder('s')
          .select('COALESCE(SUM(s.size_bytes), 0)', 'bytes')
          .addSelect('COUNT(*)', 'n')
          .where('s.camera_id = :cameraId AND s.start_time > :lower AND s.end_time >= :sinceIso', {
            cameraId,
            lower: lowerBound(sinceIso),
            sinceIso,
          })
          .getRawOne<{ bytes: string | number; n: string | number }>();
        if (Number(row?.n ?? 0) > 0) out.set(cameraId, Number(row!.bytes));
      }
      return out;
    });
  }

  /** Bytes of the segments of `cameraIds` that ended at or after `sinceIso` and that event recording
   * decided to keep (`kept_by` `event:<reason>`, or `lock`: held by a lock instead of deleted). The
   * same index range per camera as `bytesEndedSince`. */
  async bytesKeptSince(cameraIds: readonly string[], sinceIso: string): Promise<Map<string, number>> {
    return this.db.run(async (m) => {
      const out = new Map<string, number>();
      for (const cameraId of cameraIds) {
        const row = await m
          .getRepository(SegmentEntity)
          .createQueryBuilder('s')
          .select('COALESCE(SUM(s.size_bytes), 0)', 'bytes')
          .where('s.camera_id = :cameraId AND s.start_time > :lower AND s.end_time >= :sinceIso', {
            cameraId,
            lower: lowerBound(sinceIso),
            sinceIso,
          })
          .andWhere("(s.kept_by LIKE 'event:%' OR s.kept_by = 'lock')")
          .getRawOne<{ bytes: string | number }>();
        out.set(cameraId, Number(row?.bytes ?? 0));
      }
      return out;
    });
  }

  /**
   * Delete the rows of the `limit` oldest deletable segments (of `cameraId`, or of all cameras;
   * optionally only those that ended before `endBeforeIso`; `node`: only rows whose file is on that
   * node's disk) and return exactly the rows that went: a segment an export read-locked meanwhile
   * stays.
   */
  async deleteOldestDeletable(
    cameraId: string | null,
    limit: number,
    endBeforeIso?: string,
    node: string | null = null,
    /** Told the paths about to lose their rows, before the transaction commits (see SegmentPruner). */
    deleting?: (paths: string[]) => void,
  ): Promise<DeletedSegment[]> {
    return this.db.transaction(async (m) => {
      const qb = onNode(
        m
          .getRepository(SegmentEntity)
          .createQueryBuilder('s')
          .select(['s.id', 's.cameraId', 's.path', 's.sizeBytes', 's.startTime'])
          .where(DELETABLE, { no: false }),
        node,
      );
      if (endBeforeIso !== undefined) qb.andWhere('s.end_time < :endBeforeIso', { endBeforeIso });
      if (cameraId !== null) {
        // A camera's segments never overlap: oldest start is oldest end, and the camera/start index
        // gives them in order (ordering by end would sort every row of the camera). One that ends
        // before the cutoff starts before it, which bounds the scan from above.
        qb.andWhere('s.camera_id = :cameraId', { cameraId }).orderBy('s.start_time', 'ASC');
        if (endBeforeIso !== undefined) qb.andWhere('s.start_time < :endBeforeIso');
      } else qb.orderBy('s.end_time', 'ASC');
      const picked = await qb.limit(limit).getMany();
      if (picked.length === 0) return [];
      deleting?.(picked.map((p) => p.path));
      const ids = picked.map((p) => p.id);
      await m
        .createQueryBuilder()
        .delete()
        .from(SegmentEntity)
        .where('id IN (:...ids) AND evidence_locked = :no AND locked = 0', { ids, no: false })
        .execute();
      const kept = new Set(
        (await m.getRepository(SegmentEntity).find({ select: { id: true }, where: { id: In(ids) } })).map(
          (r) => r.id,
        ),
      );
      const gone = picked.filter((p) => !kept.has(p.id));
      const byCamera = new Map<string, SegmentEntity[]>();
      for (const g of gone) byCamera.set(g.cameraId, [...(byCamera.get(g.cameraId) ?? []), g]);
      for (const [cam, rows] of byCamera) {
        await this.forgetDays(m, cam, rows);
        await this.rebuildCoverage(
          m,
          cam,
          rows.map((r) => r.startTime),
        );
        const bytes = rows.reduce((n, r) => n + r.sizeBytes, 0);
        await this.addUsage(m, cam, {
          count: -rows.length,
          bytes: -bytes,
          protectedCount: 0,
          protectedBytes: 0,
        });
      }
      return gone.map((p) => ({ id: p.id, cameraId: p.cameraId, path: p.path, sizeBytes: p.sizeBytes }));
    });
  }

  /**
   * An event camera's segments still waiting for their keep decision (`kept_by = 'pending'`) that
   * start after `afterStartIso` and end before `endBeforeIso`, oldest first, at most `limit`. The
   * camera/start index bounds the read to the rows after the decision cursor. `node`: only rows
   * whose file is on that node's disk (and rows without a node); null: every row.
   */
  pendingSegments(
    cameraId: string,
    afterStartIso: string,
    endBeforeIso: string,
    limit: number,
    node: string | null = null,
  ): Promise<Array<{ id: string; startTime: string; endTime: string }>> {
    return this.db.run((m) =>
      onNode(
        m
          .getRepository(SegmentEntity)
          .createQueryBuilder('s')
          .select(['s.id', 's.startTime', 's.endTime'])
          .where('s.camera_id = :cameraId AND s.start_time > :after AND s.start_time < :before', {
            cameraId,
            after: afterStartIso,
            before: endBeforeIso,
          }),
        node,
      )
        .andWhere('s.end_time < :before AND s.kept_by = :pending', { pending: 'pending' })
        .orderBy('s.start_time', 'ASC')
        .limit(limit)
        .getMany(),
    );
  }

  /**
   * Apply an event camera's keep decisions in one transaction: `keep` rows get their `kept_by`;
   * `drop` rows are deleted unless evidence- or read-locked (those are kept as `lock`), their
   * coverage and usage updated, and each run of deleted footage recorded as a `no_event` gap
   * (joined to the previous one when they touch). Returns the deleted rows (files to unlink).
   */
  async decideSegments(
    cameraId: string,
    keep: ReadonlyArray<{ id: string; keptBy: string }>,
    drop: readonly string[],
    nowIso: string,
    /** Told the paths about to lose their rows, before the transaction commits (see SegmentPruner). */
    deleting?: (paths: string[]) => void,
  ): Promise<DeletedSegment[]> {
    return this.db.transaction(async (m) => {
      const repo = m.getRepository(SegmentEntity);
      const byReason = new Map<string, string[]>();
      for (const k of keep) byReason.set(k.keptBy, [...(byReason.get(k.keptBy) ?? []), k.id]);
      for (const [keptBy, ids] of byReason)
        for (let i = 0; i < ids.length; i += 500)
          await repo.update({ id: In(ids.slice(i, i + 500)) }, { keptBy });
      if (drop.length === 0) return [];
      const picked = await repo.find({
        select: { id: true, cameraId: true, path: true, sizeBytes: true, startTime: true, endTime: true },
        where: { id: In([...drop]), evidenceLocked: false, locked: 0 },
        order: { startTime: 'ASC' },
      });
      const dropSet = new Set(picked.map((p) => p.id));
      const held = drop.filter((id) => !dropSet.has(id));
      if (held.length > 0) await repo.update({ id: In(held) }, { keptBy: 'lock' });
      if (picked.length === 0) return [];
      deleting?.(picked.map((p) => p.path));
      await repo.delete({ id: In(picked.map((p) => p.id)) });
      await this.forgetDays(m, cameraId, picked);
      await this.rebuildCoverage(
        m,
        cameraId,
        picked.map((r) => r.startTime),
      );
      await this.addUsage(m, cameraId, {
        count: -picked.length,
        bytes: -picked.reduce((n, r) => n + r.sizeBytes, 0),
        protectedCount: 0,
        protectedBytes: 0,
      });
      // Runs of deleted footage (segments of a camera do not overlap; ≤ 1 s apart is one run: a kept
      // segment between two deleted ones is at least 2 s long).
      const runs: Array<{ start: string; end: string }> = [];
      for (const r of picked) {
        const last = runs[runs.length - 1];
        if (last && Date.parse(r.startTime) - Date.parse(last.end) <= 1000) last.end = r.endTime;
        else runs.push({ start: r.startTime, end: r.endTime });
      }
      const gaps = m.getRepository(RecordingGapEntity);
      for (const run of runs) {
        const prev = await gaps
          .createQueryBuilder('g')
          .where(
            'g.camera_id = :cameraId AND g.cause = :cause AND g.gap_end >= :from AND g.gap_end <= :start',
            {
              cameraId,
              cause: 'no_event',
              from: new Date(Date.parse(run.start) - 1000).toISOString(),
              start: run.start,
            },
          )
          .getOne();
        const seconds = (from: string, to = run.end) =>
          Math.round((Date.parse(to) - Date.parse(from)) / 100) / 10;
        // A gap may already start here: the indexer's, recorded from the previous segment's end
        // before this (late-indexed) segment had its row. One gap per start: it becomes this run,
        // keeping its own cause only if it reaches past the run.
        const same = prev ? null : await gaps.findOneBy({ cameraId, gapStart: run.start });
        if (prev) await gaps.update({ id: prev.id }, { gapEnd: run.end, gapSeconds: seconds(prev.gapStart) });
        else if (same) {
          const beyond = same.gapEnd > run.end;
          await gaps.update(
            { id: same.id },
            beyond
              ? { gapSeconds: seconds(run.start, same.gapEnd) }
              : { gapEnd: run.end, gapSeconds: seconds(run.start), cause: 'no_event', fillState: 'none' },
          );
        } else
          await gaps.insert({
            id: prefixedId('gap_'),
            cameraId,
            gapStart: run.start,
            gapEnd: run.end,
            gapSeconds: seconds(run.start),
            cause: 'no_event',
            fillState: 'none',
            createdAt: nowIso,
          });
      }
      return picked.map((p) => ({ id: p.id, cameraId: p.cameraId, path: p.path, sizeBytes: p.sizeBytes }));
    });
  }

  /** Add `d` to the camera's usage row (created at the first segment). */
  private async addUsage(m: EntityManager, cameraId: string, d: UsageDelta): Promise<void> {
    if (d.count === 0 && d.bytes === 0 && d.protectedCount === 0 && d.protectedBytes === 0) return;
    const p = (i: number) => (this.db.isSqlite ? '?' : `$${i}`);
    await m.query(
      `INSERT INTO segment_usage (camera_id, segment_count, total_bytes, protected_count, protected_bytes)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})
       ON CONFLICT (camera_id) DO UPDATE SET
         segment_count = segment_usage.segment_count + excluded.segment_count,
         total_bytes = segment_usage.total_bytes + excluded.total_bytes,
         protected_count = segment_usage.protected_count + excluded.protected_count,
         protected_bytes = segment_usage.protected_bytes + excluded.protected_bytes`,
      [cameraId, d.count, d.bytes, d.protectedCount, d.protectedBytes],
    );
  }

  /** Merge again, from its segments, every coverage bucket holding one of `startIsos`. */
  private async rebuildCoverage(
    m: EntityManager,
    cameraId: string,
    startIsos: Iterable<string>,
  ): Promise<void> {
    const buckets = [...new Set([...startIsos].map((x) => bucketOf(Date.parse(x))))].sort((a, b) => a - b);
    for (const b of buckets) {
      const lo = iso(b);
      const hi = iso(b + COVERAGE_BUCKET_MS);
      const rows = await m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('s.start_time', 'start')
        .addSelect('s.end_time', 'end')
        .where('s.camera_id = :cameraId AND s.start_time >= :lo AND s.start_time < :hi', { cameraId, lo, hi })
        .orderBy('s.start_time', 'ASC')
        .getRawMany<{ start: string; end: string }>();
      await m
        .createQueryBuilder()
        .delete()
        .from(CoverageEntity)
        .where('camera_id = :cameraId AND start_time >= :lo AND start_time < :hi', { cameraId, lo, hi })
        .execute();
      const pieces = coveragePieces(
        rows.map((r) => ({ startMs: Date.parse(r.start), endMs: Date.parse(r.end) })),
      );
      if (pieces.length > 0)
        await m.getRepository(CoverageEntity).insert(pieces.map((x) => fromPiece(cameraId, x)));
    }
  }

  /** Coverage after inserting a segment: append to its bucket's last piece, open one, or (out of
   * order) merge the bucket again. */
  private async coverSegment(
    m: EntityManager,
    cameraId: string,
    startIso: string,
    endIso: string,
  ): Promise<void> {
    const startMs = Date.parse(startIso);
    const b = bucketOf(startMs);
    const repo = m.getRepository(CoverageEntity);
    const last = await lastPieceOfBucket(repo, cameraId, b);
    const step = coverageInsert(last ? toPiece(last) : null, { startMs, endMs: Date.parse(endIso) });
    if (step.kind === 'rebuild') await this.rebuildCoverage(m, cameraId, [startIso]);
    else if (step.kind === 'open') await repo.insert(fromPiece(cameraId, step.piece));
    else {
      const { endTime, segmentCount, lastStart } = fromPiece(cameraId, step.piece);
      await repo.update({ cameraId, startTime: last!.startTime }, { endTime, segmentCount, lastStart });
    }
  }

  async evidenceLockedCount(cameraId: string): Promise<number> {
    return this.db.run((m) => m.getRepository(SegmentEntity).countBy({ cameraId, evidenceLocked: true }));
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /** path → size of every indexed file of a camera (the indexer's cache seed). */
  async indexedFiles(cameraId: string): Promise<Map<string, number>> {
    const rows = await this.db.run((m) =>
      m.getRepository(SegmentEntity).find({ select: { path: true, sizeBytes: true }, where: { cameraId } }),
    );
    return new Map(rows.map((r) => [r.path, r.sizeBytes]));
  }

  getByPath(path: string): Promise<SegmentEntity | null> {
    return this.db.run((m) => m.getRepository(SegmentEntity).findOneBy({ path }));
  }

  /** Latest end among the camera's segments that start before `startIso`: the latest start before
   * it (one index seek), then the ends of the segments of the hour up to that start (a segment is
   * at most an hour long, so none that starts earlier ends later). Never all the camera's rows: the
   * indexer asks this for every page and every segment ffmpeg closes. */
  async previousEnd(cameraId: string, startIso: string): Promise<string | null> {
    return this.db.run(async (m) => {
      const seg = m.getRepository(SegmentEntity);
      const last = await seg
        .createQueryBuilder('s')
        .select('MAX(s.start_time)', 'max')
        .where('s.camera_id = :cameraId AND s.start_time < :startIso', { cameraId, startIso })
        .getRawOne<{ max: string | null }>();
      if (!last?.max) return null;
      const row = await seg
        .createQueryBuilder('s')
        .select('MAX(s.end_time)', 'max')
        .where('s.camera_id = :cameraId AND s.start_time > :lower AND s.start_time < :startIso', {
          cameraId,
          lower: lowerBound(last.max),
          startIso,
        })
        .getRawOne<{ max: string | null }>();
      return row?.max ?? null;
    });
  }

  /** Clamp earlier segments that run past `startIso` so segments never overlap (a segment is at
   * most an hour long, so only those starting within the hour before can). */
  async clampOverlaps(cameraId: string, startIso: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const where =
        'camera_id = :cameraId AND start_time > :lower AND start_time < :startIso AND end_time > :startIso';
      const params = { cameraId, startIso, lower: lowerBound(startIso) };
      const hit = await m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('s.start_time', 'start')
        .where(where.replace(/(camera_id|start_time|end_time)/g, 's.$1'), params)
        .getRawMany<{ start: string }>();
      if (hit.length === 0) return;
      await m
        .createQueryBuilder()
        .update(SegmentEntity)
        .set({ endTime: startIso })
        .where(where, params)
        .execute();
      await this.rebuildCoverage(
        m,
        cameraId,
        hit.map((h) => h.start),
      );
    });
  }

  /** The one way a segment row enters: its coverage and its camera's usage change with it. */
  async insertSegment(row: SegmentEntity): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.getRepository(SegmentEntity).insert(row);
      await this.coverSegment(m, row.cameraId, row.startTime, row.endTime);
      const prot = isProtected(row);
      await this.addUsage(m, row.cameraId, {
        count: 1,
        bytes: row.sizeBytes,
        protectedCount: prot ? 1 : 0,
        protectedBytes: prot ? row.sizeBytes : 0,
      });
    });
  }

  /**
   * Many rows in one transaction, with the same result as `insertSegment` on each in turn: the
   * rows in multi-row INSERTs, each touched coverage bucket read once and its pieces folded in
   * memory (a row landing out of order merges its bucket again from the segments), one usage
   * change per camera. The backlog indexer commits its pages this way.
   */
  async insertSegments(rows: readonly SegmentEntity[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.transaction(async (m) => {
      if (this.db.isSqlite) this.insertRowsSqlite(rows);
      else
        for (let i = 0; i < rows.length; i += INSERT_CHUNK)
          // Copies: on PostgreSQL TypeORM writes the RETURNING values (bigint as text) into the
          // objects it inserts, and the usage below adds up the caller's sizes.
          await m.getRepository(SegmentEntity).insert(rows.slice(i, i + INSERT_CHUNK).map((r) => ({ ...r })));
      const byCamera = new Map<string, SegmentEntity[]>();
      for (const r of rows) byCamera.set(r.cameraId, [...(byCamera.get(r.cameraId) ?? []), r]);
      for (const [cameraId, mine] of byCamera) {
        await this.coverSegments(m, cameraId, mine);
        const usage: UsageDelta = { count: 0, bytes: 0, protectedCount: 0, protectedBytes: 0 };
        for (const r of mine) {
          usage.count++;
          usage.bytes += r.sizeBytes;
          if (isProtected(r)) {
            usage.protectedCount++;
            usage.protectedBytes += r.sizeBytes;
          }
        }
        await this.addUsage(m, cameraId, usage);
      }
    });
  }

  /** SQLite: the rows through one statement prepared once (TypeORM's per-row cost of building a
   * multi-row INSERT was most of a backlog page's commit). Joins the caller's transaction. */
  private insertRowsSqlite(rows: readonly SegmentEntity[]): void {
    const stmt = this.db.prepared(
      `INSERT INTO segments (id, camera_id, path, start_time, end_time, duration_s, codec, width, height,
         fps, size_bytes, container, locked, evidence_locked, incident_id, created_at, kept_by, node_id)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    for (const r of rows) {
      stmt.run(
        r.id,
        r.cameraId,
        r.path,
        r.startTime,
        r.endTime,
        r.durationS,
        r.codec,
        r.width,
        r.height,
        r.fps,
        r.sizeBytes,
        r.container,
        r.locked,
        r.evidenceLocked ? 1 : 0,
        r.incidentId,
        r.createdAt,
        r.keptBy ?? null,
        r.nodeId ?? null,
      );
    }
  }

  /** `coverSegment` for many rows of one camera (already inserted, in this order): per bucket one
   * read of its last piece, the steps folded in memory, then one write per changed piece. */
  private async coverSegments(
    m: EntityManager,
    cameraId: string,
    rows: readonly SegmentEntity[],
  ): Promise<void> {
    const repo = m.getRepository(CoverageEntity);
    interface BucketState {
      stored: CoverageEntity | null;
      last: CoveragePiece | null;
      /** The stored last piece as extended by this batch (null: unchanged). */
      storedFinal: CoveragePiece | null;
      added: CoveragePiece[];
      rebuild: boolean;
    }
    const buckets = new Map<number, BucketState>();
    for (const r of rows) {
      const startMs = Date.parse(r.startTime);
      const b = bucketOf(startMs);
      let st = buckets.get(b);
      if (!st) {
        const stored = await lastPieceOfBucket(repo, cameraId, b);
        st = { stored, last: stored ? toPiece(stored) : null, storedFinal: null, added: [], rebuild: false };
        buckets.set(b, st);
      }
      if (st.rebuild) continue;
      const step = coverageInsert(st.last, { startMs, endMs: Date.parse(r.endTime) });
      if (step.kind === 'rebuild') st.rebuild = true;
      else if (step.kind === 'open') {
        st.added.push(step.piece);
        st.last = step.piece;
      } else if (st.added.length > 0) {
        st.added[st.added.length - 1] = step.piece;
        st.last = step.piece;
      } else {
        st.storedFinal = step.piece;
        st.last = step.piece;
      }
    }
    for (const [b, st] of buckets) {
      if (st.rebuild) {
        await this.rebuildCoverage(m, cameraId, [iso(b)]);
        continue;
      }
      if (st.storedFinal && st.stored) {
        const { endTime, segmentCount, lastStart } = fromPiece(cameraId, st.storedFinal);
        await repo.update({ cameraId, startTime: st.stored.startTime }, { endTime, segmentCount, lastStart });
      }
      if (st.added.length > 0) await repo.insert(st.added.map((x) => fromPiece(cameraId, x)));
    }
  }

  async repairSegment(path: string, patch: Partial<SegmentEntity>): Promise<void> {
    await this.db.transaction(async (m) => {
      const repo = m.getRepository(SegmentEntity);
      const before = await repo.findOne({
        select: {
          cameraId: true,
          startTime: true,
          endTime: true,
          sizeBytes: true,
          evidenceLocked: true,
          locked: true,
        },
        where: { path },
      });
      if (!before) return;
      await repo.update({ path }, patch);
      const after = { ...before, ...patch };
      if (after.cameraId !== before.cameraId) {
        await this.rebuildCoverage(m, before.cameraId, [before.startTime]);
        await this.rebuildCoverage(m, after.cameraId, [after.startTime]);
      } else if (after.startTime !== before.startTime || after.endTime !== before.endTime) {
        await this.rebuildCoverage(m, after.cameraId, [before.startTime, after.startTime]);
      }
      const usage = (s: typeof before, sign: 1 | -1): UsageDelta => ({
        count: sign,
        bytes: sign * s.sizeBytes,
        protectedCount: isProtected(s) ? sign : 0,
        protectedBytes: isProtected(s) ? sign * s.sizeBytes : 0,
      });
      if (after.cameraId !== before.cameraId) {
        await this.addUsage(m, before.cameraId, usage(before, -1));
        await this.addUsage(m, after.cameraId, usage(after, 1));
      } else {
        const [a, b] = [usage(after, 1), usage(before, -1)];
        await this.addUsage(m, after.cameraId, {
          count: 0,
          bytes: a.bytes + b.bytes,
          protectedCount: a.protectedCount + b.protectedCount,
          protectedBytes: a.protectedBytes + b.protectedBytes,
        });
      }
    });
  }

  /** Inserts a gap unless one already starts there; returns whether it was new. */
  async insertGap(row: RecordingGapEntity): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const repo = m.getRepository(RecordingGapEntity);
      if (await repo.findOneBy({ cameraId: row.cameraId, gapStart: row.gapStart })) return false;
      await repo.insert(row);
      return true;
    });
  }

  /** Segments overlapping [from, to] ascending, or the newest `limit` (returned ascending).
   * A segment is at most an hour long, so `start_time > from − 1 h` bounds the index scan from
   * both sides (without it, a window scans every older segment of the camera). */
  async segments(
    cameraId: string,
    fromIso: string | null,
    toIso: string | null,
    limit: number,
  ): Promise<SegmentEntity[]> {
    if (fromIso === null && toIso === null) {
      const newest = await this.select<SegmentRow>(
        `SELECT ${SEGMENT_COLUMNS} FROM segments WHERE camera_id = ? ORDER BY start_time DESC LIMIT ?`,
        [cameraId, limit],
      );
      return newest.map(toSegment).reverse();
    }
    const where = ['camera_id = ?'];
    const params: unknown[] = [cameraId];
    if (toIso !== null) {
      where.push('start_time < ?');
      params.push(toIso);
    }
    if (fromIso !== null) {
      where.push('start_time > ? AND end_time > ?');
      params.push(lowerBound(fromIso), fromIso);
    }
    const rows = await this.select<SegmentRow>(
      `SELECT ${SEGMENT_COLUMNS} FROM segments WHERE ${where.join(' AND ')} ORDER BY start_time ASC LIMIT ?`,
      [...params, limit],
    );
    return rows.map(toSegment);
  }

  /** Just the [start, end] of the segments overlapping [from, to], ascending (timeline and gaps
   * need nothing else). */
  spans(
    cameraId: string,
    fromIso: string,
    toIso: string,
    limit: number,
  ): Promise<Array<{ start: string; end: string }>> {
    return this.select(
      `SELECT start_time AS start, end_time AS "end" FROM segments
       WHERE camera_id = ? AND start_time < ? AND start_time > ? AND end_time > ?
       ORDER BY start_time ASC LIMIT ?`,
      [cameraId, toIso, lowerBound(fromIso), fromIso, limit],
    );
  }

  /**
   * The recorded spans of [from, to] for the timeline and gaps, ascending, and how many segments
   * overlap the window: the stored coverage pieces of the whole hours inside the window, the
   * segments of its two edges (read as `spans` reads them). Merging the result like the segments
   * gives exactly the ranges and holes of the segments; ~720 rows for 30 days.
   */
  async coverageSpans(
    cameraId: string,
    fromIso: string,
    toIso: string,
  ): Promise<{ spans: Array<{ start: string; end: string }>; segmentCount: number }> {
    const whole = coverageWindow(Date.parse(fromIso), Date.parse(toIso));
    if (!whole) {
      const rows = await this.spans(cameraId, fromIso, toIso, 200_000);
      return { spans: rows, segmentCount: rows.length };
    }
    const wholeFrom = iso(whole.wholeFromMs);
    const wholeTo = iso(whole.wholeToMs);
    const rows = await this.select<{ start_time: string; end_time: string; n: number | string }>(
      COVERAGE_SPANS_SQL,
      [
        ...[cameraId, lowerBound(fromIso), wholeFrom < toIso ? wholeFrom : toIso, fromIso],
        ...[cameraId, wholeFrom, wholeTo],
        ...[cameraId, wholeTo, toIso, fromIso],
      ],
    );
    let segmentCount = 0;
    const spans = rows.map((r) => {
      segmentCount += Number(r.n);
      return { start: r.start_time, end: r.end_time };
    });
    return { spans, segmentCount };
  }

  firstSegmentStart(cameraId: string): Promise<string | null> {
    return this.db.run((m) => this.firstStartIn(m, cameraId));
  }

  gaps(cameraId: string, limit: number, fillState?: string): Promise<RecordingGapEntity[]> {
    return this.db.run((m) =>
      m.getRepository(RecordingGapEntity).find({
        where: { cameraId, ...(fillState ? { fillState } : {}) },
        order: { gapStart: 'DESC' },
        take: limit,
      }),
    );
  }

  /** Recorded gaps that overlap [from, to], ascending by start: their span and cause. */
  async gapsBetween(cameraId: string, fromIso: string, toIso: string): Promise<RecordedGap[]> {
    const rows = await this.select<{ gap_start: string; gap_end: string; cause: GapCause }>(
      `SELECT gap_start, gap_end, cause FROM recording_gaps
       WHERE camera_id = ? AND gap_start < ? AND gap_end > ? ORDER BY gap_start ASC`,
      [cameraId, toIso, fromIso],
    );
    return rows.map((g) => ({
      startMs: Date.parse(g.gap_start),
      endMs: Date.parse(g.gap_end),
      cause: g.cause,
    }));
  }

  getSegment(id: string): Promise<SegmentEntity | null> {
    return this.db.run((m) => m.getRepository(SegmentEntity).findOneBy({ id }));
  }

  async setEvidence(id: string, evidenceLocked: boolean, incidentId?: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const repo = m.getRepository(SegmentEntity);
      const before = await repo.findOne({
        select: { cameraId: true, sizeBytes: true, evidenceLocked: true, locked: true },
        where: { id },
      });
      await repo.update({ id }, { evidenceLocked, ...(incidentId ? { incidentId } : {}) });
      if (!before) return;
      const was = isProtected(before);
      const now = isProtected({ ...before, evidenceLocked });
      if (was !== now)
        await this.addUsage(m, before.cameraId, this.protectDelta(now ? 1 : -1, before.sizeBytes));
    });
  }

  private protectDelta(sign: 1 | -1, bytes: number, count = 1): UsageDelta {
    return { count: 0, bytes: 0, protectedCount: sign * count, protectedBytes: sign * bytes };
  }

  /** Incidents (segments grouped by incident_id), newest first, optionally only for `cameraIds`. */
  incidents(cameraIds: readonly string[] | null): Promise<
    Array<{
      incident_id: string;
      segment_count: number;
      total_bytes: number;
      oldest_start: string;
      newest_end: string;
    }>
  > {
    return this.db.run(async (m) => {
      if (cameraIds && cameraIds.length === 0) return [];
      const qb = m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('s.incident_id', 'incident_id')
        .addSelect('COUNT(*)', 'segment_count')
        .addSelect('SUM(s.size_bytes)', 'total_bytes')
        .addSelect('MIN(s.start_time)', 'oldest_start')
        .addSelect('MAX(s.end_time)', 'newest_end')
        .where('s.incident_id IS NOT NULL')
        .groupBy('s.incident_id')
        .orderBy('newest_end', 'DESC')
        .limit(1000);
      if (cameraIds) qb.andWhere('s.camera_id IN (:...cameraIds)', { cameraIds: [...cameraIds] });
      const rows = await qb.getRawMany<Record<string, string | number>>();
      return rows.map((r) => ({
        incident_id: String(r.incident_id),
        segment_count: Number(r.segment_count),
        total_bytes: Number(r.total_bytes),
        oldest_start: String(r.oldest_start),
        newest_end: String(r.newest_end),
      }));
    });
  }

  incidentSegments(incidentId: string, cameraIds: readonly string[] | null): Promise<SegmentEntity[]> {
    return this.db.run((m) => {
      if (cameraIds && cameraIds.length === 0) return Promise.resolve([]);
      const qb = m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .where('s.incident_id = :incidentId', { incidentId });
      if (cameraIds) qb.andWhere('s.camera_id IN (:...cameraIds)', { cameraIds: [...cameraIds] });
      return qb.orderBy('s.start_time', 'ASC').limit(5000).getMany();
    });
  }

  /** Transient read-lock counter: retention never deletes a segment while it is above zero.
   * Returns the ids that still had a row (a segment deleted before the lock is not held). */
  async addReadLock(ids: string[], delta: 1 | -1): Promise<string[]> {
    if (ids.length === 0) return [];
    return this.db.transaction(async (m) => {
      const rows = await m.getRepository(SegmentEntity).find({
        select: { id: true, cameraId: true, sizeBytes: true, evidenceLocked: true, locked: true },
        where: { id: In(ids) },
      });
      await m
        .createQueryBuilder()
        .update(SegmentEntity)
        .set({ locked: () => (delta > 0 ? 'locked + 1' : 'CASE WHEN locked > 0 THEN locked - 1 ELSE 0 END') })
        .where('id IN (:...ids)', { ids })
        .execute();
      // Only a row going 0 → 1 (or 1 → 0) and not held as evidence changes the protected bytes.
      const flips = new Map<string, { count: number; bytes: number }>();
      for (const r of rows) {
        if (r.evidenceLocked || r.locked !== (delta > 0 ? 0 : 1)) continue;
        const f = flips.get(r.cameraId) ?? { count: 0, bytes: 0 };
        f.count++;
        f.bytes += r.sizeBytes;
        flips.set(r.cameraId, f);
      }
      for (const [cam, f] of flips) await this.addUsage(m, cam, this.protectDelta(delta, f.bytes, f.count));
      return rows.map((r) => r.id);
    });
  }

  /** Zero every read-lock (boot): one pass to find the held rows, then only those are updated. */
  async clearReadLocks(): Promise<number> {
    return this.db.transaction(async (m) => {
      const held = await m.getRepository(SegmentEntity).find({
        select: { id: true, cameraId: true, sizeBytes: true, evidenceLocked: true },
        where: { locked: Not(0) },
      });
      const freed = new Map<string, { count: number; bytes: number }>();
      for (let i = 0; i < held.length; i += 500) {
        const ids = held.slice(i, i + 500).map((h) => h.id);
        await m
          .createQueryBuilder()
          .update(SegmentEntity)
          .set({ locked: 0 })
          .where('id IN (:...ids)', { ids })
          .execute();
      }
      for (const h of held) {
        if (h.evidenceLocked) continue;
        const f = freed.get(h.cameraId) ?? { count: 0, bytes: 0 };
        f.count++;
        f.bytes += h.sizeBytes;
        freed.set(h.cameraId, f);
      }
      for (const [cam, f] of freed) await this.addUsage(m, cam, this.protectDelta(-1, f.bytes, f.count));
      return held.length;
    });
  }

  async deleteCamera(cameraId: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.getRepository(SegmentEntity).delete({ cameraId });
      await m.getRepository(CoverageEntity).delete({ cameraId });
      await m.getRepository(SegmentUsageEntity).delete({ cameraId });
      await m.getRepository(RecordingGapEntity).delete({ cameraId });
      await m.getRepository(IndexedDayEntity).delete({ cameraId });
    });
  }

  /** Segments of these day folders are being deleted: their recorded states go in the same
   * transaction, every node's (the next pass of the node holding them lists those folders again;
   * another node's folder of that day is listed once more, which costs one listing). */
  private async forgetDays(
    m: EntityManager,
    cameraId: string,
    rows: ReadonlyArray<{ path: string }>,
  ): Promise<void> {
    const days = [...new Set(rows.map((r) => dayOfPath(r.path)).filter((d): d is string => d !== null))];
    if (days.length > 0) await m.getRepository(IndexedDayEntity).delete({ cameraId, day: In(days) });
  }

  /** What the last full pass of `node` (null: a single node, or shared storage) saw of each of
   * the camera's day folders on its disk (one row per folder). */
  async dayStates(cameraId: string, node: string | null = null): Promise<Map<string, DayState>> {
    const rows = await this.db.run((m) =>
      m.getRepository(IndexedDayEntity).findBy({ cameraId, nodeId: dayNode(node) }),
    );
    return new Map(rows.map((r) => [r.day, { mtimeMs: Number(r.mtimeMs), files: r.files }]));
  }

  /** Record a day folder on `node`'s disk as fully seen: `mtimeMs` read before it was listed,
   * every file indexed. */
  async saveDayState(
    cameraId: string,
    day: string,
    state: DayState,
    node: string | null = null,
  ): Promise<void> {
    await this.db.run((m) =>
      m
        .getRepository(IndexedDayEntity)
        .upsert({ cameraId, nodeId: dayNode(node), day, ...state }, ['cameraId', 'nodeId', 'day']),
    );
  }

  /** Forget the recorded state of these day folders on `node`'s disk (gone, or changed under the pass). */
  async clearDayStates(cameraId: string, days: readonly string[], node: string | null = null): Promise<void> {
    if (days.length === 0) return;
    await this.db.run((m) =>
      m.getRepository(IndexedDayEntity).delete({ cameraId, nodeId: dayNode(node), day: In([...days]) }),
    );
  }

  // ---- Day-folder reconciliation (indexer): one query per camera-day, never all history ----

  /** Rows of one day folder (`<camera>/<day>/`) by file name → size. Reads the camera's rows
   * whose start lies within the day ± 2 h (the camera/start index), keeps those under the folder. */
  async indexedNamesOfDay(
    cameraId: string,
    day: string,
    node: string | null = null,
  ): Promise<Map<string, number>> {
    const prefix = `${cameraId}/${day}/`;
    const rows = await this.db.run((m) =>
      onNode(
        m
          .getRepository(SegmentEntity)
          .createQueryBuilder('s')
          .select('s.path', 'path')
          .addSelect('s.size_bytes', 'size')
          .where('s.camera_id = :cameraId', { cameraId })
          .andWhere('s.start_time >= :lo AND s.start_time < :hi', dayWindow(day))
          .andWhere('substr(s.path, 1, :n) = :prefix', { n: prefix.length, prefix }),
        node,
      ).getRawMany<{ path: string; size: string | number }>(),
    );
    return new Map(rows.map((r) => [r.path.slice(prefix.length), Number(r.size)]));
  }

  /** How many rows one day folder has (same bounds as indexedNamesOfDay). */
  async countOfDay(cameraId: string, day: string, node: string | null = null): Promise<number> {
    const prefix = `${cameraId}/${day}/`;
    const row = await this.db.run((m) =>
      onNode(
        m
          .getRepository(SegmentEntity)
          .createQueryBuilder('s')
          .select('COUNT(*)', 'n')
          .where('s.camera_id = :cameraId', { cameraId })
          .andWhere('s.start_time >= :lo AND s.start_time < :hi', dayWindow(day))
          .andWhere('substr(s.path, 1, :n) = :prefix', { n: prefix.length, prefix }),
        node,
      ).getRawOne<{ n: string | number }>(),
    );
    return Number(row?.n ?? 0);
  }

  /** The latest start among the camera's segments ('' when it has none). */
  async lastStart(cameraId: string): Promise<string> {
    const row = await this.db.run((m) =>
      m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('MAX(s.start_time)', 'max')
        .where('s.camera_id = :cameraId', { cameraId })
        .getRawOne<{ max: string | null }>(),
    );
    return row?.max ?? '';
  }

  /** Point a row at its file's new place (flat → day folder); false when no row had `from`. */
  async updatePath(from: string, to: string): Promise<boolean> {
    const res = await this.db.run((m) => m.getRepository(SegmentEntity).update({ path: from }, { path: to }));
    return (res.affected ?? 0) > 0;
  }
}

/** A day's rows start within [day − 2 h, day + 26 h): a file is named when opened and is at most an
 * hour long, and its start comes from its media (a little before or after the name). */
function dayWindow(day: string): { lo: string; hi: string } {
  const start = Date.parse(`${day}T00:00:00.000Z`);
  return {
    lo: new Date(start - 2 * 3_600_000).toISOString(),
    hi: new Date(start + 26 * 3_600_000).toISOString(),
  };
}

/** The `indexed_days.node_id` of a node's folders: '' when segment rows carry no node. */
const dayNode = (node: string | null): string => node ?? '';

/**
 * Only the segments whose file lies on `node`'s disk (per-node storage), and rows without a node
 * (written before the cluster, by the single node that held them: its reconciliation must keep
 * counting them as indexed and its retention must keep pruning them); null: every row.
 */
function onNode<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  node: string | null,
): SelectQueryBuilder<T> {
  return node === null ? qb : qb.andWhere('(s.node_id = :node OR s.node_id IS NULL)', { node });
}
