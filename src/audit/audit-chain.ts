import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
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

/** Purpose of the sub-key (`SecretBox.deriveKey`) the chain is keyed with. */
export const AUDIT_CHAIN_KEY_PURPOSE = 'audit-chain';

/**
 * A retention checkpoint, written into the chain (keyed like any row) before the rows up to
 * `upto_seq` are removed: the first row kept must link to `anchor_hash`.
 */
export const CHECKPOINT_ACTION = 'audit_checkpoint';
/**
 * The first keyed row of an install upgraded from the plain SHA-256 chain: every row before it
 * verifies with the legacy rule, every row from it on with the key.
 */
export const KEYED_CUTOVER_ACTION = 'audit_chain_keyed';

function canonicalContent(row: Content): string {
  return canonicalJson([
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
}

/**
 * hash = HMAC-SHA256(key, previous hash ‖ canonical content): changing, removing or reordering a
 * row breaks every later link, and without the key (derived from the secret key, never in the
 * database) a row cannot be re-hashed to fit.
 */
export function auditHash(key: Buffer, prevHash: string, row: Content): string {
  return createHmac('sha256', key).update(prevHash).update('\n').update(canonicalContent(row)).digest('hex');
}

/** The rule before the chain was keyed: SHA-256(previous hash ‖ canonical content). */
export function legacyAuditHash(prevHash: string, row: Content): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalContent(row)).digest('hex');
}

/** Whether a row's stored hash is right for its stored previous hash and content. */
export function rowHashHolds(row: AuditLogEntity, rule: { key: Buffer } | 'legacy'): boolean {
  const expected =
    rule === 'legacy' ? legacyAuditHash(row.prevHash, row) : auditHash(rule.key, row.prevHash, row);
  const a = Buffer.from(expected);
  const b = Buffer.from(row.hash);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface CheckpointDetail {
  upto_seq: number;
  anchor_hash: string;
  pruned_before: string;
}

export interface CutoverDetail {
  legacy_head_seq: number;
  legacy_head: string;
  /** The legacy (table) checkpoint at the cutover: where the legacy part of the chain starts. */
  legacy_checkpoint: { upto_seq: number; anchor_hash: string } | null;
}

export function checkpointDetail(row: AuditLogEntity): CheckpointDetail | null {
  const d = row.detail as Partial<CheckpointDetail>;
  return typeof d.upto_seq === 'number' && typeof d.anchor_hash === 'string' && d.upto_seq < row.seq
    ? (d as CheckpointDetail)
    : null;
}

export function cutoverDetail(row: AuditLogEntity): CutoverDetail | null {
  const d = row.detail as Partial<CutoverDetail>;
  const cp = d.legacy_checkpoint;
  const cpOk =
    cp === null ||
    (typeof cp === 'object' && typeof cp?.upto_seq === 'number' && typeof cp.anchor_hash === 'string');
  return typeof d.legacy_head === 'string' && d.legacy_head === row.prevHash && cpOk
    ? (d as CutoverDetail)
    : null;
}

/** Where a walk of the chain starts: rows with seq > `after`, the first linking to `anchor`. */
export interface ChainStart {
  after: number;
  anchor: string;
}

/**
 * The start of the chain, from its newest checkpoint row, else its cutover row (upgraded
 * installs), else the beginning. Both are keyed rows of the chain, checked as it is walked.
 */
export function chainStart(checkpoint: CheckpointDetail | null, cutover: CutoverDetail | null): ChainStart {
  if (checkpoint) return { after: checkpoint.upto_seq, anchor: checkpoint.anchor_hash };
  const legacy = cutover?.legacy_checkpoint;
  return legacy ? { after: legacy.upto_seq, anchor: legacy.anchor_hash } : { after: 0, anchor: '' };
}
