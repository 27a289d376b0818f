import { Injectable } from '@nestjs/common';
import { likeEscape } from '../common/like-pattern';
import { DatabaseService } from '../database/database.service';
import type { AuditQuery } from './audit.service';
import { AuditCheckpointEntity } from './entities/audit-checkpoint.entity';
import { AuditLogEntity } from './entities/audit-log.entity';

/** Arbitrary constant naming the audit chain's PostgreSQL advisory lock. */
const CHAIN_LOCK = 74_201_001;

/**
 * The audit chain's rows. Appends run inside the caller's transaction (every call joins it), with
 * the chain's lock held: `lockChain` first.
 */
@Injectable()
export class AuditRepository {
  constructor(private readonly db: DatabaseService) {}

  /** Serialise appends to the chain until the transaction ends (SQLite: its one writer already does). */
  async lockChain(): Promise<void> {
    if (this.db.isSqlite) return;
    await this.db.run((m) => m.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]));
  }

  /** The newest row, or null for an empty log. */
  async last(): Promise<AuditLogEntity | null> {
    const rows = await this.db.run((m) =>
      m.getRepository(AuditLogEntity).find({ order: { seq: 'DESC' }, take: 1 }),
    );
    return rows[0] ?? null;
  }

  /** The newest row's seq and hash (what the next row links to). */
  async lastLink(): Promise<Pick<AuditLogEntity, 'seq' | 'hash'> | null> {
    const rows = await this.db.run((m) =>
      m
        .getRepository(AuditLogEntity)
        .find({ select: { seq: true, hash: true }, order: { seq: 'DESC' }, take: 1 }),
    );
    return rows[0] ?? null;
  }

  /** The oldest (or newest) row of an action. */
  async edgeOfAction(action: string, which: 'first' | 'last'): Promise<AuditLogEntity | null> {
    const rows = await this.db.run((m) =>
      m
        .getRepository(AuditLogEntity)
        .find({ where: { action }, order: { seq: which === 'first' ? 'ASC' : 'DESC' }, take: 1 }),
    );
    return rows[0] ?? null;
  }

  /** The newest row of the legacy checkpoint table (plain-SHA-256 installs). */
  async lastLegacyCheckpoint(): Promise<AuditCheckpointEntity | null> {
    const rows = await this.db.run((m) =>
      m.getRepository(AuditCheckpointEntity).find({ order: { id: 'DESC' }, take: 1 }),
    );
    return rows[0] ?? null;
  }

  /** Append a row; its seq. */
  async insert(row: Omit<AuditLogEntity, 'seq'>): Promise<number> {
    const res = await this.db.run((m) => m.getRepository(AuditLogEntity).insert({ ...row }));
    return Number((res.identifiers[0] as { seq: number }).seq);
  }

  /** The newest row written before `cutoffIso` (seq and hash). */
  lastBefore(cutoffIso: string): Promise<Pick<AuditLogEntity, 'seq' | 'hash'> | null> {
    return this.db.run((m) =>
      m
        .getRepository(AuditLogEntity)
        .createQueryBuilder('a')
        .select(['a.seq', 'a.hash'])
        .where('a.created_at < :cutoffIso', { cutoffIso })
        .orderBy('a.seq', 'DESC')
        .limit(1)
        .getOne(),
    );
  }

  /** Remove every row up to `upto` (the head of the chain, behind a checkpoint), in batches. */
  deleteUpTo(upto: number): Promise<number> {
    return this.db.deleteInBatches(AuditLogEntity, 'seq', 'x.seq <= :upto', { upto });
  }

  /** Rows after `seq`, ascending, at most `limit` (the verifier's walk). */
  after(seq: number, limit: number): Promise<AuditLogEntity[]> {
    return this.db.run((m) =>
      m
        .getRepository(AuditLogEntity)
        .createQueryBuilder('a')
        .where('a.seq > :after', { after: seq })
        .orderBy('a.seq', 'ASC')
        .limit(limit)
        .getMany(),
    );
  }

  /** Newest first, filtered. */
  list(q: AuditQuery): Promise<AuditLogEntity[]> {
    return this.db.run((m) => {
      const qb = m.getRepository(AuditLogEntity).createQueryBuilder('a');
      if (q.from) qb.andWhere('a.created_at >= :from', { from: q.from });
      if (q.to) qb.andWhere('a.created_at <= :to', { to: q.to });
      if (q.actor) qb.andWhere('a.actor_id = :actor', { actor: q.actor });
      if (q.action?.endsWith('*'))
        qb.andWhere("a.action LIKE :prefix ESCAPE '\\'", { prefix: `${likeEscape(q.action.slice(0, -1))}%` });
      else if (q.action) qb.andWhere('a.action = :action', { action: q.action });
      if (q.targetType) qb.andWhere('a.target_type = :tt', { tt: q.targetType });
      if (q.targetId) qb.andWhere('a.target_id = :tid', { tid: q.targetId });
      if (q.cameraId) qb.andWhere('a.subject_camera_id = :cam', { cam: q.cameraId });
      if (q.cursor !== undefined) qb.andWhere('a.seq < :cursor', { cursor: q.cursor });
      return qb.orderBy('a.seq', 'DESC').limit(q.limit).getMany();
    });
  }
}
