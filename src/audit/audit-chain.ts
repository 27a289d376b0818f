import { createHash } from 'node:crypto';
import type { AuditLogEntity } from './entities/audit-log.entity';

/** JSON with object keys sorted, so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

type Content = Omit<AuditLogEntity, 'seq' | 'prevHash' | 'hash'>;

/** hash = SHA-256(previous hash ‖ canonical content): changing, removing or reordering a row breaks
 * every later link. */
export function auditHash(prevHash: string, row: Content): string {
  const content = canonicalJson([
    row.id,
    row.actorKind,
    row.actorId,
    row.actorName,
    row.role,
    row.action,
    row.targetType,
    row.targetId,
    row.detail,
    row.subjectCameraId,
    row.requestId,
    row.createdAt,
  ]);
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}
