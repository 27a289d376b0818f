import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { SnapshotEntity } from './entities/snapshot.entity';
import { SnapshotScheduleEntity } from './entities/snapshot-schedule.entity';

export interface SnapshotUsageRow {
  cameraId: string;
  bytes: number;
  count: number;
}

@Injectable()
export class SnapshotsRepository {
  constructor(private readonly db: DatabaseService) {}

  allSchedules(): Promise<SnapshotScheduleEntity[]> {
    return this.db.run((m) =>
      m
        .getRepository(SnapshotScheduleEntity)
        .find({ order: { cameraId: 'ASC', createdAt: 'ASC', id: 'ASC' } }),
    );
  }

  schedulesOf(cameraId: string): Promise<SnapshotScheduleEntity[]> {
    return this.db.run((m) =>
      m
        .getRepository(SnapshotScheduleEntity)
        .find({ where: { cameraId }, order: { createdAt: 'ASC', id: 'ASC' } }),
    );
  }

  getSchedule(id: string): Promise<SnapshotScheduleEntity | null> {
    return this.db.run((m) => m.getRepository(SnapshotScheduleEntity).findOneBy({ id }));
  }

  async insertSchedule(row: SnapshotScheduleEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(SnapshotScheduleEntity).insert({ ...row }));
  }

  async updateSchedule(id: string, patch: Partial<SnapshotScheduleEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(SnapshotScheduleEntity).update({ id }, patch));
  }

  async deleteSchedule(id: string): Promise<void> {
    await this.db.run((m) => m.getRepository(SnapshotScheduleEntity).delete({ id }));
  }

  async deleteSchedulesOf(cameraId: string): Promise<void> {
    await this.db.run((m) => m.getRepository(SnapshotScheduleEntity).delete({ cameraId }));
  }

  async insertSnapshot(row: SnapshotEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(SnapshotEntity).insert({ ...row }));
  }

  /** A camera's snapshots in [from, to), newest first (index on (camera_id, taken_at)). */
  list(
    cameraId: string,
    fromIso: string | null,
    toIso: string | null,
    limit: number,
  ): Promise<SnapshotEntity[]> {
    return this.db.run((m) => {
      const qb = m
        .getRepository(SnapshotEntity)
        .createQueryBuilder('s')
        .where('s.camera_id = :cameraId', { cameraId })
        .orderBy('s.taken_at', 'DESC')
        .addOrderBy('s.id', 'DESC')
        .limit(limit);
      if (fromIso) qb.andWhere('s.taken_at >= :fromIso', { fromIso });
      if (toIso) qb.andWhere('s.taken_at < :toIso', { toIso });
      return qb.getMany();
    });
  }

  /** Up to `limit` snapshots taken before `cutoffIso`, oldest first (index on taken_at): removed
   * from the table in the same transaction and returned, so their files can be unlinked. `node`:
   * only those whose file is in that node's data dir (and rows without a node); null: all. */
  takeOlderThan(cutoffIso: string, limit: number, node: string | null = null): Promise<SnapshotEntity[]> {
    return this.db.transaction(async (m) => {
      const repo = m.getRepository(SnapshotEntity);
      const qb = repo.createQueryBuilder('s').where('s.taken_at < :cutoffIso', { cutoffIso });
      if (node !== null) qb.andWhere('(s.node_id = :node OR s.node_id IS NULL)', { node });
      const rows = await qb.orderBy('s.taken_at', 'ASC').limit(limit).getMany();
      if (rows.length > 0) await repo.delete({ id: In(rows.map((r) => r.id)) });
      return rows;
    });
  }

  /** Bytes and count of snapshots per camera, taken at or after `sinceIso` (all without it). */
  usage(sinceIso?: string): Promise<SnapshotUsageRow[]> {
    return this.db.run(async (m) => {
      const qb = m
        .getRepository(SnapshotEntity)
        .createQueryBuilder('s')
        .select('s.camera_id', 'camera_id')
        .addSelect('COALESCE(SUM(s.size_bytes), 0)', 'bytes')
        .addSelect('COUNT(*)', 'n')
        .groupBy('s.camera_id');
      if (sinceIso) qb.where('s.taken_at >= :sinceIso', { sinceIso });
      const rows = await qb.getRawMany<{ camera_id: string; bytes: string | number; n: string | number }>();
      return rows.map((r) => ({ cameraId: r.camera_id, bytes: Number(r.bytes), count: Number(r.n) }));
    });
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.transaction(() => fn());
  }
}
