import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../database/database.service';
import { ClipEntity } from './entities/clip.entity';

/** Exported clips. Inside `db.transaction` every call joins it. */
@Injectable()
export class ExportsRepository {
  constructor(private readonly db: DatabaseService) {}

  get(id: string): Promise<ClipEntity | null> {
    return this.db.run((m) => m.getRepository(ClipEntity).findOneBy({ id }));
  }

  getByFile(file: string): Promise<ClipEntity | null> {
    return this.db.run((m) => m.getRepository(ClipEntity).findOneBy({ file }));
  }

  /** Newest first; `cameraIds` limits them to those cameras (none: no clip). */
  list(cameraIds: readonly string[] | null, limit: number): Promise<ClipEntity[]> {
    if (cameraIds && cameraIds.length === 0) return Promise.resolve([]);
    return this.db.run((m) => {
      const qb = m
        .getRepository(ClipEntity)
        .createQueryBuilder('c')
        .orderBy('c.created_at', 'DESC')
        .limit(limit);
      if (cameraIds) qb.where('c.camera_id IN (:...cameraIds)', { cameraIds: [...cameraIds] });
      return qb.getMany();
    });
  }

  async create(row: ClipEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(ClipEntity).insert({ ...row })); // a copy: RETURNING writes back
  }

  async setEvidence(id: string, locked: boolean): Promise<void> {
    await this.db.run((m) => m.getRepository(ClipEntity).update({ id }, { evidenceLocked: locked }));
  }

  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.run((m) => m.getRepository(ClipEntity).delete([...ids]));
  }

  /** Unlocked clips made before `cutoffIso`, oldest first (id and file). */
  expired(cutoffIso: string, limit: number): Promise<Array<Pick<ClipEntity, 'id' | 'file'>>> {
    return this.db.run((m) =>
      m
        .getRepository(ClipEntity)
        .createQueryBuilder('c')
        .select(['c.id', 'c.file'])
        .where('c.created_at < :cutoffIso AND c.evidence_locked = :no', { cutoffIso, no: false })
        .orderBy('c.created_at', 'ASC')
        .limit(limit)
        .getMany(),
    );
  }

  /** The unlocked ones among `ids` (id, file, size). */
  unlocked(ids: readonly string[]): Promise<Array<Pick<ClipEntity, 'id' | 'file' | 'sizeBytes'>>> {
    return this.db.run((m) =>
      m
        .getRepository(ClipEntity)
        .createQueryBuilder('c')
        .select(['c.id', 'c.file', 'c.sizeBytes'])
        .where('c.id IN (:...ids) AND c.evidence_locked = :no', { ids: [...ids], no: false })
        .getMany(),
    );
  }

  /** Unlocked clips, oldest first (what retention may delete). */
  prunable(limit: number): Promise<Array<Pick<ClipEntity, 'id' | 'sizeBytes' | 'createdAt'>>> {
    return this.db.run((m) =>
      m
        .getRepository(ClipEntity)
        .createQueryBuilder('c')
        .select(['c.id', 'c.sizeBytes', 'c.createdAt'])
        .where('c.evidence_locked = :no', { no: false })
        .orderBy('c.created_at', 'ASC')
        .limit(limit)
        .getMany(),
    );
  }

  /** Every clip's file name. */
  async files(): Promise<string[]> {
    const rows = await this.db.run((m) => m.getRepository(ClipEntity).find({ select: { file: true } }));
    return rows.map((c) => c.file);
  }

  /** Bytes of the stored clips (of one exporter when `createdBy` is given). */
  async storedBytes(createdBy?: string): Promise<number> {
    const row = await this.db.run((m) => {
      const qb = m
        .getRepository(ClipEntity)
        .createQueryBuilder('c')
        .select('COALESCE(SUM(c.size_bytes), 0)', 'bytes');
      if (createdBy !== undefined) qb.where('c.created_by = :createdBy', { createdBy });
      return qb.getRawOne<{ bytes: string | number }>();
    });
    return Number(row?.bytes ?? 0);
  }

  /** Bytes of all stored clips, of the evidence-locked ones, and how many clips. */
  async usage(): Promise<{ totalBytes: number; lockedBytes: number; count: number }> {
    const row = await this.db.run((m) =>
      m
        .getRepository(ClipEntity)
        .createQueryBuilder('c')
        .select('COALESCE(SUM(c.size_bytes), 0)', 'total')
        .addSelect(
          'COALESCE(SUM(CASE WHEN c.evidence_locked = :yes THEN c.size_bytes ELSE 0 END), 0)',
          'locked',
        )
        .addSelect('COUNT(*)', 'n')
        .setParameters({ yes: true })
        .getRawOne<{ total: string | number; locked: string | number; n: string | number }>(),
    );
    return {
      totalBytes: Number(row?.total ?? 0),
      lockedBytes: Number(row?.locked ?? 0),
      count: Number(row?.n ?? 0),
    };
  }
}
