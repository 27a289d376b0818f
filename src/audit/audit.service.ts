import { AuditRepository } from './audit.repository';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { SYSTEM_PRINCIPAL, type Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { prefixedId } from '../common/ids';
import { Loops } from '../common/loops';
import { RequestContext } from '../common/request-context';
import { SecretBox } from '../common/secret-box';
import { HeldarConfig } from '../config/heldar-config';
import { DatabaseService } from '../database/database.service';
import { RowRetention } from '../common/row-retention';
import { EventsService } from '../events/events.service';
import {
  AUDIT_CHAIN_KEY_PURPOSE,
  auditHash,
  chainStart,
  CHECKPOINT_ACTION,
  type CheckpointDetail,
  checkpointDetail,
  type CutoverDetail,
  cutoverDetail,
  KEYED_CUTOVER_ACTION,
  rowHashHolds,
} from './audit-chain';
import { AuditLogEntity } from './entities/audit-log.entity';

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

/** A head pinned elsewhere (from `/audit/verify` or an `audit_head` event), to check against. */
export interface ExpectedHead {
  seq?: number;
  hash: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  checked: number;
  first_broken_id: string | null;
  /** Why `ok` is false, in words. */
  problem: string | null;
  /** The newest row of the chain: pin it outside the kernel. */
  head: { seq: number; hash: string } | null;
  /** present: the chain still holds the pinned row; pruned: retention removed it (behind a
   * checkpoint); missing: it is gone (rows dropped) or was never there; mismatch: the row at
   * that seq has another hash (rewritten). */
  expected_head?: { seq: number | null; hash: string; status: 'present' | 'pruned' | 'missing' | 'mismatch' };
}

type Content = Omit<AuditLogEntity, 'seq' | 'prevHash' | 'hash'>;

const DAY_MS = 24 * 3_600_000;

/**
 * Audit writer, called by every mutating handler. Best effort: a failure is logged, never
 * fails the request. Rows are chained with an HMAC keyed from the secret key (each stores the
 * keyed hash of the previous hash and its own content), retention checkpoints are rows of the
 * chain, and the database refuses UPDATE; inside a transaction the row joins it. The head (newest
 * seq and hash) goes out as an `audit_head` event every `HELDAR_AUDIT_HEAD_EVERY` rows and daily,
 * so dropping the newest rows shows against a head pinned elsewhere.
 */
@Injectable()
export class AuditService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('Audit');
  private readonly key: Buffer;
  /** Set once this process saw (or made) the chain keyed; until then each write checks. */
  private keyed = false;
  /** The head as of the last daily `audit_head` (null before the first daily tick). */
  private dailyHeadSeq: number | null = null;

  constructor(
    private readonly db: DatabaseService,
    private readonly repo: AuditRepository,
    private readonly clock: Clock,
    private readonly rowRetention: RowRetention,
    private readonly events: EventsService,
    private readonly loops: Loops,
    box: SecretBox,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {
    this.key = box.deriveKey(AUDIT_CHAIN_KEY_PURPOSE);
  }

  async onModuleInit(): Promise<void> {
    this.rowRetention.register({ name: 'audit_log', ttl: 'audit', prune: (cutoff) => this.prune(cutoff) });
    // Before any module writes a row: an upgraded chain gets its cutover row first.
    await this.db.transaction(async () => {
      await this.repo.lockChain();
      await this.ensureKeyed();
    });
  }

  onApplicationBootstrap(): void {
    this.loops.start('audit_head', DAY_MS, () => this.dailyHead(), { scope: 'cluster' });
  }

  /** Daily `audit_head` when the chain moved (the first tick, at boot, only notes the head). */
  private async dailyHead(): Promise<void> {
    const head = await this.repo.last();
    if (!head) return;
    if (this.dailyHeadSeq !== null && head.seq !== this.dailyHeadSeq) {
      await this.events.emit({
        type: 'audit_head',
        payload: { seq: head.seq, hash: head.hash, reason: 'daily' },
      });
    }
    this.dailyHeadSeq = head.seq;
  }

  /** The oldest cutover row and the newest checkpoint row (null when there is none). */
  private async markers(): Promise<{ cutover: AuditLogEntity | null; checkpoint: AuditLogEntity | null }> {
    return {
      cutover: await this.repo.edgeOfAction(KEYED_CUTOVER_ACTION, 'first'),
      checkpoint: await this.repo.edgeOfAction(CHECKPOINT_ACTION, 'last'),
    };
  }

  /**
   * Upgrade from the plain SHA-256 chain (in the chain's lock): when the newest row is not keyed
   * and the chain has neither a cutover nor a keyed checkpoint row, append the cutover row — the
   * first keyed row, linked to the last legacy hash. Rows before it keep verifying with the old
   * rule; it records where the legacy part starts (the legacy checkpoint table's anchor).
   */
  private async ensureKeyed(): Promise<void> {
    if (this.keyed) return;
    const last = await this.repo.last();
    const { cutover, checkpoint } = last ? await this.markers() : { cutover: null, checkpoint: null };
    if (last && !rowHashHolds(last, { key: this.key }) && !cutover && !checkpoint) {
      const legacy = await this.repo.lastLegacyCheckpoint();
      const detail: CutoverDetail = {
        legacy_head_seq: last.seq,
        legacy_head: last.hash,
        legacy_checkpoint: legacy ? { upto_seq: legacy.uptoSeq, anchor_hash: legacy.anchorHash } : null,
      };
      await this.append(
        this.content(SYSTEM_PRINCIPAL, KEYED_CUTOVER_ACTION, 'audit_log', null, { ...detail }),
      );
      this.logger.log(
        `audit chain keyed from here on; ${last.seq} earlier row(s) keep the plain SHA-256 rule`,
      );
    }
    this.db.afterCommit(() => (this.keyed = true));
  }

  /** Append one row to the chain: the caller holds the chain's lock inside a transaction. */
  private async append(content: Content): Promise<AuditLogEntity> {
    const last = await this.repo.lastLink();
    // After retention removed every row, the chain continues from the checkpoint's anchor (the
    // checkpoint row itself stays, so this is only an empty log).
    const prevHash = last?.hash ?? '';
    const hash = auditHash(this.key, prevHash, content);
    const seq = await this.repo.insert({ ...content, prevHash, hash });
    const row = { ...content, seq, prevHash, hash };
    const every = this.config.auditHeadEvery;
    if (every > 0 && Math.floor(seq / every) > Math.floor((last?.seq ?? 0) / every)) {
      await this.events.emit({ type: 'audit_head', payload: { seq, hash: row.hash, reason: 'rows' } });
    }
    return row;
  }

  private content(
    principal: Principal,
    action: string,
    targetType: string | null,
    targetId: string | null,
    detail: Record<string, unknown>,
    subjectCameraId: string | null = null,
  ): Content {
    return {
      id: prefixedId('aud_'),
      actorKind: principal.kind,
      actorId: principal.id,
      actorName: principal.name,
      role: principal.role,
      action,
      targetType,
      targetId,
      detail: detail,
      subjectCameraId,
      requestId: RequestContext.current()?.requestId ?? null,
      createdAt: this.clock.nowIso(),
    };
  }

  /**
   * Remove rows older than `cutoffIso` from the head of the chain. A checkpoint row (the last
   * removed row's seq and hash) is appended to the chain first, keyed like any row, so `verify`
   * still proves that nothing else was removed and that the first kept row is the one retention
   * left — and a forged or moved checkpoint breaks the chain.
   */
  async prune(cutoffIso: string): Promise<number> {
    const upto = await this.db.transaction(async () => {
      await this.repo.lockChain();
      await this.ensureKeyed();
      const last = await this.repo.lastBefore(cutoffIso);
      const known = await this.latestCheckpoint();
      if (!last || (known && known.upto_seq >= last.seq)) return known?.upto_seq ?? null;
      const detail: CheckpointDetail = {
        upto_seq: last.seq,
        anchor_hash: last.hash,
        pruned_before: cutoffIso,
      };
      await this.append(this.content(SYSTEM_PRINCIPAL, CHECKPOINT_ACTION, 'audit_log', null, { ...detail }));
      return last.seq;
    });
    if (upto === null) return 0;
    return this.repo.deleteUpTo(upto);
  }

  private async latestCheckpoint(): Promise<CheckpointDetail | null> {
    const { checkpoint } = await this.markers();
    return checkpoint ? checkpointDetail(checkpoint) : null;
  }

  async record(
    principal: Principal,
    action: string,
    targetType: string | null,
    targetId: string | null,
    detail: Record<string, unknown> = {},
    opts: { subjectCameraId?: string | null } = {},
  ): Promise<void> {
    const content = this.content(
      principal,
      action,
      targetType,
      targetId,
      detail,
      opts.subjectCameraId ?? subjectCamera(targetType, targetId, detail),
    );
    try {
      await this.db.transaction(async () => {
        await this.repo.lockChain();
        await this.ensureKeyed();
        await this.append(content);
      });
    } catch (err) {
      this.logger.error({ err, action, targetType, targetId }, 'audit write failed');
    }
  }

  /** Newest first, filtered; `next_cursor` pages further back. */
  async list(q: AuditQuery): Promise<{ entries: AuditLogEntity[]; nextCursor: number | null }> {
    const rows = await this.repo.list(q);
    return { entries: rows, nextCursor: rows.length === q.limit ? rows[rows.length - 1].seq : null };
  }

  /**
   * Walk the chain from its start (the newest checkpoint, else the beginning) and report the first
   * row whose link or keyed hash does not hold, and the head. Rows before an upgrade's cutover row
   * verify with the legacy SHA-256 rule. With `expected` (a head pinned elsewhere), also whether
   * the chain still holds it: dropped newest rows leave no broken link, only a missing head.
   */
  async verify(expected?: ExpectedHead): Promise<AuditVerifyResult> {
    const { cutover, checkpoint } = await this.markers();
    const broken = (row: AuditLogEntity, checked: number, problem: string): AuditVerifyResult => ({
      ok: false,
      checked,
      first_broken_id: row.id,
      problem,
      head: null,
      ...(expected
        ? { expected_head: { seq: expected.seq ?? null, hash: expected.hash, status: 'missing' } }
        : {}),
    });
    const keyed = { key: this.key };
    const cut = cutover && rowHashHolds(cutover, keyed) ? cutoverDetail(cutover) : null;
    if (cutover && !cut) return broken(cutover, 0, `the cutover row (seq ${cutover.seq}) is not genuine`);
    const cp = checkpoint && rowHashHolds(checkpoint, keyed) ? checkpointDetail(checkpoint) : null;
    if (checkpoint && !cp)
      return broken(checkpoint, 0, `the checkpoint row (seq ${checkpoint.seq}) is not genuine`);
    // Rows before the cutover row (upgraded installs) were chained with plain SHA-256.
    const keyedFrom = cutover?.seq ?? 0;
    const start = chainStart(cp, cut);
    let prev = start.anchor;
    let after = start.after;
    let checked = 0;
    let head: AuditLogEntity | null = null;
    let status: 'present' | 'mismatch' | null = null;
    for (;;) {
      const batch = await this.repo.after(after, 1000);
      for (const row of batch) {
        if (row.prevHash !== prev) {
          return broken(row, checked, `seq ${row.seq} does not link to the row before it (rows removed?)`);
        }
        if (!rowHashHolds(row, row.seq < keyedFrom ? 'legacy' : keyed)) {
          return broken(row, checked, `seq ${row.seq} was altered (its hash does not hold)`);
        }
        if (expected && status === null) {
          if (expected.seq === undefined ? row.hash === expected.hash : row.seq === expected.seq) {
            status = row.hash === expected.hash ? 'present' : 'mismatch';
          }
        }
        prev = row.hash;
        head = row;
        checked++;
      }
      if (batch.length < 1000) break;
      after = batch[batch.length - 1].seq;
    }
    const result: AuditVerifyResult = {
      ok: true,
      checked,
      first_broken_id: null,
      problem: null,
      head: head ? { seq: head.seq, hash: head.hash } : null,
    };
    if (!expected) return result;
    const pruned = expected.seq !== undefined ? expected.seq <= start.after : expected.hash === start.anchor;
    const final = status ?? (pruned ? 'pruned' : 'missing');
    result.expected_head = { seq: expected.seq ?? null, hash: expected.hash, status: final };
    if (final === 'missing') {
      result.ok = false;
      result.problem = `the pinned head ${expected.seq !== undefined ? `(seq ${expected.seq}) ` : ''}is not in the chain: its newest rows were removed`;
    } else if (final === 'mismatch') {
      result.ok = false;
      result.problem = `the row at seq ${expected.seq} is not the pinned head: the chain was rewritten`;
    }
    return result;
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
