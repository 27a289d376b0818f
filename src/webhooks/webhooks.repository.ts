import { Injectable, type OnModuleInit } from '@nestjs/common';
import { type EntityManager, In, LessThanOrEqual } from 'typeorm';
import { RowRetention } from '../common/row-retention';
import { DatabaseService } from '../database/database.service';
import { WebhookAttemptEntity } from './entities/webhook-attempt.entity';
import { type DeliveryStatus, WebhookDeliveryEntity } from './entities/webhook-delivery.entity';
import { WebhookEntity } from './entities/webhook.entity';

/** Deliveries to insert for one subscription, and the cursor it moves to. */
export interface SchedulePlan {
  webhookId: string;
  rows: WebhookDeliveryEntity[];
  cursorSeq: number;
}

/** While outcomes keep coming, the ledger commits at most this often (idle: at once). */
const OUTCOME_FLUSH_MS = 25;

export type OutcomePatch = Pick<
  WebhookDeliveryEntity,
  'status' | 'attempts' | 'nextAttemptAt' | 'lastStatusCode' | 'lastError' | 'deliveredAt' | 'updatedAt'
>;

@Injectable()
export class WebhooksRepository implements OnModuleInit {
  constructor(
    private readonly db: DatabaseService,
    private readonly rowRetention: RowRetention,
  ) {}

  onModuleInit(): void {
    // Finished deliveries and the ledger expire with the audit class; open ones are kept.
    this.rowRetention.register({
      name: 'webhook_deliveries',
      ttl: 'audit',
      prune: async (cutoff) => {
        const n = await this.db.deleteInBatches(
          WebhookDeliveryEntity,
          'id',
          "x.created_at < :cutoff AND x.status IN ('delivered', 'dead')",
          { cutoff },
        );
        await this.db.deleteInBatches(WebhookAttemptEntity, 'id', 'x.created_at < :cutoff', { cutoff });
        return n;
      },
    });
  }

  /** Run `cb` once the surrounding transaction commits (at once outside one). */
  afterCommit(cb: () => void): void {
    this.db.afterCommit(cb);
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  all(): Promise<WebhookEntity[]> {
    return this.db.run((m) => m.getRepository(WebhookEntity).find({ order: { createdAt: 'ASC' } }));
  }

  get(id: string): Promise<WebhookEntity | null> {
    return this.db.run((m) => m.getRepository(WebhookEntity).findOneBy({ id }));
  }

  async insert(row: WebhookEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(WebhookEntity).insert({ ...row }));
  }

  async update(id: string, patch: Partial<WebhookEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(WebhookEntity).update({ id }, patch));
  }

  /** The subscription, its deliveries and its ledger, in one transaction. */
  async delete(id: string): Promise<boolean> {
    return this.db.transaction(async (m) => {
      await m.getRepository(WebhookAttemptEntity).delete({ webhookId: id });
      await m.getRepository(WebhookDeliveryEntity).delete({ webhookId: id });
      return ((await m.getRepository(WebhookEntity).delete({ id })).affected ?? 0) > 0;
    });
  }

  /**
   * New delivery rows for several subscriptions and their new cursors, in one transaction (a
   * burst's scheduling pass is one commit, not one per subscription). A row for an event its
   * subscription already has is skipped; returns the ids actually inserted (only those may be sent).
   * SQLite: statements prepared once.
   */
  async schedule(plans: readonly SchedulePlan[]): Promise<Set<string>> {
    const inserted = new Set<string>();
    if (plans.length === 0) return inserted;
    await this.db.transaction(async (m) => {
      for (const { webhookId, rows, cursorSeq } of plans) {
        if (this.db.isSqlite) {
          const insert = this.db.prepared(
            `INSERT INTO webhook_deliveries (id, webhook_id, event_seq, event_type, status, attempts,
               next_attempt_at, last_status_code, last_error, delivered_at, created_at, updated_at)
             VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (webhook_id, event_seq) DO NOTHING`,
          );
          for (const r of rows) {
            const res = insert.run(
              r.id,
              r.webhookId,
              r.eventSeq,
              r.eventType,
              r.status,
              r.attempts,
              r.nextAttemptAt,
              r.lastStatusCode,
              r.lastError,
              r.deliveredAt,
              r.createdAt,
              r.updatedAt,
            );
            if (res.changes > 0) inserted.add(r.id);
          }
          this.db.prepared('UPDATE webhooks SET cursor_seq = ? WHERE id = ?').run(cursorSeq, webhookId);
          continue;
        }
        if (rows.length > 0) {
          const seqs = rows.map((r) => r.eventSeq);
          const existing = new Set(
            (
              await m
                .getRepository(WebhookDeliveryEntity)
                .find({ select: { eventSeq: true }, where: { webhookId, eventSeq: In(seqs) } })
            ).map((r) => r.eventSeq),
          );
          const fresh = rows.filter((r) => !existing.has(r.eventSeq));
          for (let i = 0; i < fresh.length; i += 200) {
            await m
              .getRepository(WebhookDeliveryEntity)
              .insert(fresh.slice(i, i + 200).map((r) => ({ ...r })));
          }
          for (const r of fresh) inserted.add(r.id);
        }
        await m.getRepository(WebhookEntity).update({ id: webhookId }, { cursorSeq });
      }
    });
    return inserted;
  }

  /** Due deliveries of the given subscriptions, oldest first. */
  due(
    webhookIds: string[],
    nowIso: string,
    limit: number,
    exclude: ReadonlySet<string>,
  ): Promise<WebhookDeliveryEntity[]> {
    if (webhookIds.length === 0 || limit <= 0) return Promise.resolve([]);
    return this.db.run(async (m) => {
      const rows = await m.getRepository(WebhookDeliveryEntity).find({
        where: {
          status: In(['pending', 'retrying'] satisfies DeliveryStatus[]),
          nextAttemptAt: LessThanOrEqual(nowIso),
          webhookId: In(webhookIds),
        },
        order: { nextAttemptAt: 'ASC', eventSeq: 'ASC' },
        take: limit + exclude.size,
      });
      return rows.filter((r) => !exclude.has(r.id)).slice(0, limit);
    });
  }

  /** Take due deliveries for sending in one statement; returns the ids actually taken. */
  async claimMany(ids: string[], nowIso: string): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    return this.db.transaction(async (m) => {
      await m
        .createQueryBuilder()
        .update(WebhookDeliveryEntity)
        .set({ status: 'delivering', updatedAt: nowIso })
        .where("id IN (:...ids) AND status IN ('pending', 'retrying')", { ids })
        .execute();
      const rows = await m.getRepository(WebhookDeliveryEntity).find({
        select: { id: true },
        where: { id: In(ids), status: 'delivering', updatedAt: nowIso },
      });
      return new Set(rows.map((r) => r.id));
    });
  }

  /** Deliveries a crash left `delivering` go back to the queue (at-least-once). */
  async requeueInFlight(nowIso: string): Promise<number> {
    return this.db.run(async (m) => {
      const res = await m
        .getRepository(WebhookDeliveryEntity)
        .update({ status: 'delivering' }, { status: 'pending', nextAttemptAt: nowIso, updatedAt: nowIso });
      return res.affected ?? 0;
    });
  }

  getDelivery(id: string): Promise<WebhookDeliveryEntity | null> {
    return this.db.run((m) => m.getRepository(WebhookDeliveryEntity).findOneBy({ id }));
  }

  async updateDelivery(id: string, patch: Partial<WebhookDeliveryEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(WebhookDeliveryEntity).update({ id }, patch));
  }

  /**
   * One attempt's ledger row and its delivery's new state, atomically. Outcomes finishing
   * meanwhile share one commit: a flush starts at once when the ledger is idle, and while a burst
   * keeps it busy at most every OUTCOME_FLUSH_MS (each commit writes the pages it touches once,
   * so a burst's ledger is a few dozen commits of many rows, not one small commit per turn of the
   * event loop). The dispatcher does not wait for it to send the next delivery. Resolves once
   * committed. SQLite: statements prepared once.
   */
  recordOutcome(attempt: Omit<WebhookAttemptEntity, 'id'>, patch: OutcomePatch): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.outcomes.push({ attempt, patch, resolve, reject });
      this.flushSoon();
    });
  }

  private readonly outcomes: Array<{
    attempt: Omit<WebhookAttemptEntity, 'id'>;
    patch: OutcomePatch;
    resolve: () => void;
    reject: (err: unknown) => void;
  }> = [];
  /** A flush is scheduled or running (outcomes queued meanwhile go in the next one). */
  private flushPending = false;
  private lastFlushAt = -Infinity;

  private flushSoon(): void {
    if (this.flushPending) return;
    this.flushPending = true;
    const wait = this.lastFlushAt + OUTCOME_FLUSH_MS - performance.now();
    const go = () => {
      this.lastFlushAt = performance.now();
      void this.flushOutcomes().finally(() => {
        this.flushPending = false;
        if (this.outcomes.length > 0) this.flushSoon();
      });
    };
    if (wait <= 0) setImmediate(go);
    else setTimeout(go, wait);
  }

  private async flushOutcomes(): Promise<void> {
    const group = this.outcomes.splice(0);
    if (group.length === 0) return;
    await this.db
      .batch(async (m) => {
        if (this.db.isSqlite) {
          // In-process statements prepared once: a row each costs about what a multi-row one does.
          const insert = this.db.prepared(attemptsInsertSql(1, '?'));
          const update = this.db.prepared(
            `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status_code = ?,
               last_error = ?, delivered_at = ?, updated_at = ? WHERE id = ?`,
          );
          for (const { attempt: a, patch: p } of group) {
            insert.run(
              a.deliveryId,
              a.webhookId,
              a.attempt,
              a.ok ? 1 : 0,
              a.statusCode,
              a.error,
              a.durationMs,
              a.createdAt,
            );
            update.run(
              p.status,
              p.attempts,
              p.nextAttemptAt,
              p.lastStatusCode,
              p.lastError,
              p.deliveredAt,
              p.updatedAt,
              a.deliveryId,
            );
          }
          return;
        }
        // PostgreSQL: two round trips per chunk of outcomes, not one per outcome: every attempt's
        // ledger row in one INSERT, every delivery's new state in one UPDATE joined to a VALUES list.
        for (let i = 0; i < group.length;) {
          const n = chunkSize(group.length - i);
          const chunk = group.slice(i, i + n);
          i += n;
          await m.query(
            attemptsInsertSql(n, '$'),
            chunk.flatMap(({ attempt: a }) => [
              a.deliveryId,
              a.webhookId,
              a.attempt,
              a.ok,
              a.statusCode,
              a.error,
              a.durationMs,
              a.createdAt,
            ]),
          );
          await m.query(
            outcomesUpdateSql(n, '$'),
            chunk.flatMap(({ attempt, patch: p }) => [
              attempt.deliveryId,
              p.status,
              p.attempts,
              p.nextAttemptAt,
              p.lastStatusCode,
              p.lastError,
              p.deliveredAt,
              p.updatedAt,
            ]),
          );
        }
      })
      .then(
        () => group.forEach((o) => o.resolve()),
        (err: unknown) => group.forEach((o) => o.reject(err)),
      );
  }

  async insertAttempt(row: Omit<WebhookAttemptEntity, 'id'>): Promise<void> {
    await this.db.run((m) => m.getRepository(WebhookAttemptEntity).insert({ ...row }));
  }

  deliveries(webhookId: string, status: string | undefined, limit: number): Promise<WebhookDeliveryEntity[]> {
    return this.db.run((m) =>
      m.getRepository(WebhookDeliveryEntity).find({
        where: { webhookId, ...(status ? { status: status as DeliveryStatus } : {}) },
        order: { eventSeq: 'DESC' },
        take: limit,
      }),
    );
  }

  attemptsOf(deliveryIds: string[]): Promise<WebhookAttemptEntity[]> {
    if (deliveryIds.length === 0) return Promise.resolve([]);
    return this.db.run((m) =>
      m
        .getRepository(WebhookAttemptEntity)
        .find({ where: { deliveryId: In(deliveryIds) }, order: { id: 'ASC' } }),
    );
  }
}

/** Rows per ledger statement on PostgreSQL: a few fixed sizes (a handful of distinct statements). */
export function chunkSize(left: number): number {
  for (const n of [256, 64, 16, 4]) if (left >= n) return n;
  return 1;
}

/** `n` rows of `cols` placeholders: `?` (SQLite) or numbered `$k` with casts where PostgreSQL needs them. */
function valuesList(n: number, casts: readonly string[], style: '?' | '$'): string {
  const rows: string[] = [];
  for (let r = 0; r < n; r++) {
    const cells = casts.map((cast, c) => (style === '?' ? '?' : `$${r * casts.length + c + 1}${cast}`));
    rows.push(`(${cells.join(',')})`);
  }
  return rows.join(',');
}

/** One INSERT of `n` attempt rows (delivery_id, webhook_id, attempt, ok, status_code, error, duration_ms, created_at). */
export function attemptsInsertSql(n: number, style: '?' | '$'): string {
  return `INSERT INTO webhook_attempts (delivery_id, webhook_id, attempt, ok, status_code, error, duration_ms,
     created_at) VALUES ${valuesList(n, ['', '', '::integer', '::boolean', '::integer', '', '::integer', ''], style)}`;
}

/** One UPDATE of `n` deliveries' states, each row (id, status, attempts, next_attempt_at,
 * last_status_code, last_error, delivered_at, updated_at). */
export function outcomesUpdateSql(n: number, style: '?' | '$'): string {
  return `WITH v (id, status, attempts, next_attempt_at, last_status_code, last_error, delivered_at, updated_at)
     AS (VALUES ${valuesList(n, ['', '', '::integer', '', '::integer', '', '', ''], style)})
   UPDATE webhook_deliveries SET status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at,
     last_status_code = v.last_status_code, last_error = v.last_error, delivered_at = v.delivered_at,
     updated_at = v.updated_at
   FROM v WHERE webhook_deliveries.id = v.id`;
}
