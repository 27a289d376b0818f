import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RowRetention } from '../common/row-retention';
import { type EntityManager, In } from 'typeorm';
import { Database } from '../database/database.service';
import { RecordingGapEntity } from './entities/recording-gap.entity';
import { SegmentEntity } from './entities/segment.entity';

/** Segments are clamped to 3600 s, so none that overlaps `from` starts more than an hour before it. */
const MAX_SEGMENT_MS = 3_600_000;
const lowerBound = (fromIso: string) => new Date(Date.parse(fromIso) - MAX_SEGMENT_MS - 1000).toISOString();

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

@Injectable()
export class TimelineRepository implements OnModuleInit {
  constructor(
    private readonly db: Database,
    private readonly rowRetention: RowRetention,
  ) {}

  onModuleInit(): void {
    // Gaps of footage that is long gone; nothing re-fills them (no edge replay yet).
    this.rowRetention.register({
      name: 'recording_gaps',
      ttl: 'audit',
      prune: (cutoff) => this.db.deleteInBatches(RecordingGapEntity, 'id', 'x.gap_end < :cutoff', { cutoff }),
    });
  }

  /** Bytes per camera: all, protected (evidence- or read-locked) and deletable. */
  async usageByCamera(): Promise<SegmentUsageRow[]> {
    const rows = await this.db.run((m) =>
      m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('s.camera_id', 'camera_id')
        .addSelect('COALESCE(SUM(s.size_bytes), 0)', 'total')
        .addSelect(`COALESCE(SUM(CASE WHEN ${DELETABLE} THEN s.size_bytes ELSE 0 END), 0)`, 'deletable')
        .addSelect(`SUM(CASE WHEN ${DELETABLE} THEN 1 ELSE 0 END)`, 'deletable_count')
        .setParameters({ no: false })
        .groupBy('s.camera_id')
        .getRawMany<Record<string, string | number>>(),
    );
    return rows.map((r) => {
      const total = Number(r.total);
      const deletable = Number(r.deletable);
      return {
        cameraId: String(r.camera_id),
        totalBytes: total,
        protectedBytes: total - deletable,
        deletableBytes: deletable,
        deletableCount: Number(r.deletable_count),
      };
    });
  }

  /** Count and oldest/newest times of the segments, optionally only of `cameraIds`. */
  async totals(
    cameraIds: readonly string[] | null,
  ): Promise<{ count: number; oldest: string | null; newest: string | null }> {
    if (cameraIds && cameraIds.length === 0) return { count: 0, oldest: null, newest: null };
    const row = await this.db.run((m) => {
      const qb = m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('COUNT(*)', 'n')
        .addSelect('MIN(s.start_time)', 'oldest')
        .addSelect('MAX(s.end_time)', 'newest');
      if (cameraIds) qb.where('s.camera_id IN (:...cameraIds)', { cameraIds: [...cameraIds] });
      return qb.getRawOne<{ n: number | string; oldest: string | null; newest: string | null }>();
    });
    return { count: Number(row?.n ?? 0), oldest: row?.oldest ?? null, newest: row?.newest ?? null };
  }

  /** Bytes of the segments per camera that ended at or after `sinceIso` (the write rate). */
  async bytesEndedSince(sinceIso: string): Promise<Map<string, number>> {
    const rows = await this.db.run((m) =>
      m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('s.camera_id', 'camera_id')
        .addSelect('COALESCE(SUM(s.size_bytes), 0)', 'bytes')
        .where('s.end_time >= :sinceIso', { sinceIso })
        .groupBy('s.camera_id')
        .getRawMany<{ camera_id: string; bytes: string | number }>(),
    );
    return new Map(rows.map((r) => [r.camera_id, Number(r.bytes)]));
  }

  /**
   * Delete the rows of the `limit` oldest deletable segments (of `cameraId`, or of all cameras;
   * optionally only those that ended before `endBeforeIso`) and return exactly the rows that
   * went: a segment an export read-locked meanwhile stays.
   */
  async deleteOldestDeletable(
    cameraId: string | null,
    limit: number,
    endBeforeIso?: string,
  ): Promise<DeletedSegment[]> {
    return this.db.transaction(async (m) => {
      const qb = m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select(['s.id', 's.cameraId', 's.path', 's.sizeBytes'])
        .where(DELETABLE, { no: false });
      if (cameraId !== null) qb.andWhere('s.camera_id = :cameraId', { cameraId });
      if (endBeforeIso !== undefined) qb.andWhere('s.end_time < :endBeforeIso', { endBeforeIso });
      const picked = await qb.orderBy('s.end_time', 'ASC').limit(limit).getMany();
      if (picked.length === 0) return [];
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
      return picked
        .filter((p) => !kept.has(p.id))
        .map((p) => ({ id: p.id, cameraId: p.cameraId, path: p.path, sizeBytes: p.sizeBytes }));
    });
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

  /** Latest end among the camera's segments that start before `startIso`. */
  async previousEnd(cameraId: string, startIso: string): Promise<string | null> {
    const row = await this.db.run((m) =>
      m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('MAX(s.end_time)', 'max')
        .where('s.camera_id = :cameraId AND s.start_time < :startIso', { cameraId, startIso })
        .getRawOne<{ max: string | null }>(),
    );
    return row?.max ?? null;
  }

  /** Clamp earlier segments that run past `startIso` so segments never overlap. */
  async clampOverlaps(cameraId: string, startIso: string): Promise<void> {
    await this.db.run((m) =>
      m
        .createQueryBuilder()
        .update(SegmentEntity)
        .set({ endTime: startIso })
        .where('camera_id = :cameraId AND start_time < :startIso AND end_time > :startIso', {
          cameraId,
          startIso,
        })
        .execute(),
    );
  }

  async insertSegment(row: SegmentEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(SegmentEntity).insert(row));
  }

  async repairSegment(path: string, patch: Partial<SegmentEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(SegmentEntity).update({ path }, patch));
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
    return this.db.run(async (m) => {
      const qb = m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .where('s.camera_id = :cameraId', { cameraId });
      if (fromIso === null && toIso === null) {
        const newest = await qb.orderBy('s.start_time', 'DESC').limit(limit).getMany();
        return newest.reverse();
      }
      if (toIso !== null) qb.andWhere('s.start_time < :toIso', { toIso });
      if (fromIso !== null) {
        qb.andWhere('s.start_time > :lower AND s.end_time > :fromIso', {
          lower: lowerBound(fromIso),
          fromIso,
        });
      }
      return qb.orderBy('s.start_time', 'ASC').limit(limit).getMany();
    });
  }

  /** Just the [start, end] of the segments overlapping [from, to], ascending (timeline and gaps
   * need nothing else; skipping entity hydration matters at 40k rows). */
  async spans(
    cameraId: string,
    fromIso: string,
    toIso: string,
    limit: number,
  ): Promise<Array<{ start: string; end: string }>> {
    return this.db.run((m) =>
      m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('s.start_time', 'start')
        .addSelect('s.end_time', 'end')
        .where('s.camera_id = :cameraId', { cameraId })
        .andWhere('s.start_time < :toIso AND s.start_time > :lower AND s.end_time > :fromIso', {
          toIso,
          lower: lowerBound(fromIso),
          fromIso,
        })
        .orderBy('s.start_time', 'ASC')
        .limit(limit)
        .getRawMany<{ start: string; end: string }>(),
    );
  }

  firstSegmentStart(cameraId: string): Promise<string | null> {
    return this.db.run(async (m) => {
      const row = await m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('MIN(s.start_time)', 'min')
        .where('s.camera_id = :cameraId', { cameraId })
        .getRawOne<{ min: string | null }>();
      return row?.min ?? null;
    });
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

  /** Recorded gaps that overlap [from, to]. */
  gapsBetween(cameraId: string, fromIso: string, toIso: string): Promise<RecordingGapEntity[]> {
    return this.db.run((m) =>
      m
        .getRepository(RecordingGapEntity)
        .createQueryBuilder('g')
        .where('g.camera_id = :cameraId AND g.gap_start < :toIso AND g.gap_end > :fromIso', {
          cameraId,
          fromIso,
          toIso,
        })
        .orderBy('g.gap_start', 'ASC')
        .getMany(),
    );
  }

  getSegment(id: string): Promise<SegmentEntity | null> {
    return this.db.run((m) => m.getRepository(SegmentEntity).findOneBy({ id }));
  }

  async setEvidence(id: string, evidenceLocked: boolean, incidentId?: string): Promise<void> {
    await this.db.run((m) =>
      m
        .getRepository(SegmentEntity)
        .update({ id }, { evidenceLocked, ...(incidentId ? { incidentId } : {}) }),
    );
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

  /** Transient read-lock counter: retention never deletes a segment while it is above zero. */
  async addReadLock(ids: string[], delta: 1 | -1): Promise<void> {
    if (ids.length === 0) return;
    await this.db.run((m) =>
      m
        .createQueryBuilder()
        .update(SegmentEntity)
        .set({ locked: () => (delta > 0 ? 'locked + 1' : 'CASE WHEN locked > 0 THEN locked - 1 ELSE 0 END') })
        .where('id IN (:...ids)', { ids })
        .execute(),
    );
  }

  async clearReadLocks(): Promise<number> {
    return this.db.run(async (m) => {
      const res = await m
        .createQueryBuilder()
        .update(SegmentEntity)
        .set({ locked: 0 })
        .where('locked <> 0')
        .execute();
      return res.affected ?? 0;
    });
  }

  async deleteCamera(cameraId: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.getRepository(SegmentEntity).delete({ cameraId });
      await m.getRepository(RecordingGapEntity).delete({ cameraId });
    });
  }

  // ---- Day-folder reconciliation (indexer): one query per camera-day, never all history ----

  /** Rows of one day folder (`<camera>/<day>/`) by file name → size. Reads the camera's rows
   * whose start lies within the day ± 2 h (the camera/start index), keeps those under the folder. */
  async indexedNamesOfDay(cameraId: string, day: string): Promise<Map<string, number>> {
    const prefix = `${cameraId}/${day}/`;
    const rows = await this.db.run((m) =>
      m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('s.path', 'path')
        .addSelect('s.size_bytes', 'size')
        .where('s.camera_id = :cameraId', { cameraId })
        .andWhere('s.start_time >= :lo AND s.start_time < :hi', dayWindow(day))
        .andWhere('substr(s.path, 1, :n) = :prefix', { n: prefix.length, prefix })
        .getRawMany<{ path: string; size: string | number }>(),
    );
    return new Map(rows.map((r) => [r.path.slice(prefix.length), Number(r.size)]));
  }

  /** How many rows one day folder has (same bounds as indexedNamesOfDay). */
  async countOfDay(cameraId: string, day: string): Promise<number> {
    const prefix = `${cameraId}/${day}/`;
    const row = await this.db.run((m) =>
      m
        .getRepository(SegmentEntity)
        .createQueryBuilder('s')
        .select('COUNT(*)', 'n')
        .where('s.camera_id = :cameraId', { cameraId })
        .andWhere('s.start_time >= :lo AND s.start_time < :hi', dayWindow(day))
        .andWhere('substr(s.path, 1, :n) = :prefix', { n: prefix.length, prefix })
        .getRawOne<{ n: string | number }>(),
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
