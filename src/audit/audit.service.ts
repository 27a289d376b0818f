import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { prefixedId } from '../common/ids';
import { RequestContext } from '../common/request-context';
import { Database } from '../database/database.service';
import { RowRetention } from '../common/row-retention';
import { auditHash } from './audit-chain';
import { AuditCheckpointEntity } from './entities/audit-checkpoint.entity';
import { AuditLogEntity } from './entities/audit-log.entity';
import type { JsonObject } from '../database/columns';
import type { EntityManager } from 'typeorm';

export interface AuditQuery {
  from?: string;
  to?: string;
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  cameraId?: string;
  /** Only rows older than this seq (pagination, newest first). */
  cursor?: number;
  limit: number;
}

/** Arbitrary constant naming the audit chain's PostgreSQL advisory lock. */
const CHAIN_LOCK = 74_201_001;

/**
 * Audit writer, called by every mutating handler. Best effort: a failure is logged, never
 * fails the request. Rows are hash-chained (each stores the SHA-256 of the previous hash and its
 * own content) and the database refuses UPDATE; inside a transaction the row joins it.
 */
@Injectable()
export class AuditService implements OnModuleInit {
  private readonly logger = new Logger('Audit');

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly rowRetention: RowRetention,
  ) {}

  onModuleInit(): void {
    this.rowRetention.register({ name: 'audit_log', ttl: 'audit', prune: (cutoff) => this.prune(cutoff) });
  }

  /**
   * Remove rows older than `cutoffIso` from the head of the chain. A checkpoint (the last removed
   * row's seq and hash) is written first, in the chain's lock, so `verify` still proves that
   * nothing else was removed and that the first kept row is the one retention left.
   */
  async prune(cutoffIso: string): Promise<number> {
    await this.db.transaction(async (m) => {
      if (!this.db.isSqlite) await m.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
      const last = await m
        .getRepository(AuditLogEntity)
        .createQueryBuilder('a')
        .select(['a.seq', 'a.hash'])
        .where('a.created_at < :cutoffIso', { cutoffIso })
        .orderBy('a.seq', 'DESC')
        .limit(1)
        .getOne();
      const known = await this.latestCheckpoint(m);
      if (!last || (known && known.uptoSeq >= last.seq)) return;
      await m.getRepository(AuditCheckpointEntity).insert({
        uptoSeq: last.seq,
        anchorHash: last.hash,
        prunedBefore: cutoffIso,
        createdAt: this.clock.nowIso(),
      });
    });
    const checkpoint = await this.db.run((m) => this.latestCheckpoint(m));
    if (!checkpoint) return 0;
    return this.db.deleteInBatches(AuditLogEntity, 'seq', 'x.seq <= :upto', { upto: checkpoint.uptoSeq });
  }

  private async latestCheckpoint(m: EntityManager): Promise<AuditCheckpointEntity | null> {
    const rows = await m.getRepository(AuditCheckpointEntity).find({ order: { id: 'DESC' }, take: 1 });
    return rows[0] ?? null;
  }

  async record(
    principal: Principal,
    action: string,
    targetType: string | null,
    targetId: string | null,
    detail: Record<string, unknown> = {},
    opts: { subjectCameraId?: string | null } = {},
  ): Promise<void> {
    const content = {
      id: prefixedId('aud_'),
      actorKind: principal.kind,
      actorId: principal.id,
      actorName: principal.name,
      role: principal.role,
      action,
      targetType,
      targetId,
      detail: detail as JsonObject,
      subjectCameraId: opts.subjectCameraId ?? subjectCamera(targetType, targetId, detail),
      requestId: RequestContext.current()?.requestId ?? null,
      createdAt: this.clock.nowIso(),
    };
    try {
      await this.db.transaction(async (m) => {
        if (!this.db.isSqlite) await m.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
        const last = await m
          .getRepository(AuditLogEntity)
          .find({ select: { hash: true }, order: { seq: 'DESC' }, take: 1 });
        // After retention removed every row, the chain continues from the checkpoint's anchor.
        const prevHash = last[0]?.hash ?? (await this.latestCheckpoint(m))?.anchorHash ?? '';
        await m
          .getRepository(AuditLogEntity)
          .insert({ ...content, prevHash, hash: auditHash(prevHash, content) });
      });
    } catch (err) {
      this.logger.error({ err, action, targetType, targetId }, 'audit write failed');
    }
  }

  /** Newest first, filtered; `next_cursor` pages further back. */
  async getAll(q: AuditQuery): Promise<{ entries: AuditLogEntity[]; nextCursor: number | null }> {
    const rows = await this.db.run((m) => {
      const qb = m.getRepository(AuditLogEntity).createQueryBuilder('a');
      if (q.from) qb.andWhere('a.created_at >= :from', { from: q.from });
      if (q.to) qb.andWhere('a.created_at <= :to', { to: q.to });
      if (q.actor) qb.andWhere('a.actor_id = :actor', { actor: q.actor });
      if (q.action) qb.andWhere('a.action = :action', { action: q.action });
      if (q.targetType) qb.andWhere('a.target_type = :tt', { tt: q.targetType });
      if (q.targetId) qb.andWhere('a.target_id = :tid', { tid: q.targetId });
      if (q.cameraId) qb.andWhere('a.subject_camera_id = :cam', { cam: q.cameraId });
      if (q.cursor !== undefined) qb.andWhere('a.seq < :cursor', { cursor: q.cursor });
      return qb.orderBy('a.seq', 'DESC').limit(q.limit).getMany();
    });
    return { entries: rows, nextCursor: rows.length === q.limit ? rows[rows.length - 1].seq : null };
  }

  /** Walk the chain from the oldest row; report the first row whose link does not hold. */
  async verify(): Promise<{ ok: boolean; checked: number; first_broken_id: string | null }> {
    const checkpoint = await this.db.run((m) => this.latestCheckpoint(m));
    // The chain starts empty; after retention, at the last checkpoint's anchor. Rows up to the
    // checkpoint are being removed and are not checked.
    let prev: string = checkpoint?.anchorHash ?? '';
    let after = checkpoint?.uptoSeq ?? 0;
    let checked = 0;
    for (;;) {
      const batch = await this.db.run((m) =>
        m
          .getRepository(AuditLogEntity)
          .createQueryBuilder('a')
          .where('a.seq > :after', { after })
          .orderBy('a.seq', 'ASC')
          .limit(1000)
          .getMany(),
      );
      for (const row of batch) {
        if (row.prevHash !== prev || row.hash !== auditHash(row.prevHash, row)) {
          return { ok: false, checked, first_broken_id: row.id };
        }
        prev = row.hash;
        checked++;
      }
      if (batch.length < 1000) return { ok: true, checked, first_broken_id: null };
      after = batch[batch.length - 1].seq;
    }
  }
}

/** The camera an audit row is about: a camera target, else `detail.camera_id`, else a single `detail.camera_ids`. */
function subjectCamera(
  targetType: string | null,
  targetId: string | null,
  detail: Record<string, unknown>,
): string | null {
  if (targetType === 'camera' && targetId && targetId !== '*') return targetId;
  if (typeof detail.camera_id === 'string') return detail.camera_id;
  const ids = detail.camera_ids;
  return Array.isArray(ids) && ids.length === 1 && typeof ids[0] === 'string' ? ids[0] : null;
}
