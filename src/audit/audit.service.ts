import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { prefixedId } from '../common/ids';
import { RequestContext } from '../common/request-context';
import { Database } from '../database/database.service';
import type { Principal } from '../auth/principal';
import { AuditLogEntity } from './entities/audit-log.entity';

/**
 * Audit writer, called by every mutating handler. Best effort: a failure is logged, never
 * fails the request. Inside a transaction the row joins it (and rolls back with it).
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async record(
    principal: Principal,
    action: string,
    targetType: string | null,
    targetId: string | null,
    detail: Record<string, unknown> = {},
    opts: { subjectCameraId?: string | null } = {},
  ): Promise<void> {
    const row: Omit<AuditLogEntity, 'seq'> = {
      id: prefixedId('aud_'),
      actorKind: principal.kind,
      actorId: principal.id,
      actorName: principal.name,
      role: principal.role,
      action,
      targetType,
      targetId,
      detail,
      subjectCameraId: opts.subjectCameraId ?? (targetType === 'camera' ? targetId : null),
      requestId: RequestContext.current()?.requestId ?? null,
      createdAt: this.clock.nowIso(),
    };
    try {
      await this.db.run((m) => m.getRepository(AuditLogEntity).insert(row));
    } catch (err) {
      this.logger.error({ err, action, targetType, targetId }, 'audit write failed');
    }
  }

  /** Newest first (the query API with filters and chain verification comes with the auth issue). */
  list(limit = 100): Promise<AuditLogEntity[]> {
    return this.db.run((m) => m.getRepository(AuditLogEntity).find({ order: { seq: 'DESC' }, take: limit }));
  }
}
