import { Injectable, type OnModuleInit } from '@nestjs/common';
import { type EntityManager, In, IsNull, LessThan, Not } from 'typeorm';
import { RowRetention } from '../common/row-retention';
import { DatabaseService } from '../database/database.service';
import { ConsumerFanoutEntity } from './entities/consumer-fanout.entity';
import { DetectionEntity } from './entities/detection.entity';
import { OutboxEntity } from './entities/outbox.entity';

/** 11 columns per detection row: chunks stay under SQLite's 999 bound parameters. */
const DETECTION_CHUNK = 90;

const insertSql = new Map<number, string>();
/** `INSERT INTO detections … VALUES (…), (…)` for `n` rows (the text is kept per row count). */
function detectionInsert(n: number): string {
  let sql = insertSql.get(n);
  if (!sql) {
    sql = `INSERT INTO detections (id, camera_id, task_type, timestamp, label, confidence, bbox, track_id,
      attributes, frame_id, created_at) VALUES ${Array.from({ length: n }, () => '(?,?,?,?,?,?,?,?,?,?,?)').join(',')}`;
    insertSql.set(n, sql);
  }
  return sql;
}

@Injectable()
export class AiRepository implements OnModuleInit {
  constructor(
    private readonly db: DatabaseService,
    private readonly rowRetention: RowRetention,
  ) {}

  onModuleInit(): void {
    this.rowRetention.register({
      name: 'detections',
      ttl: 'detection',
      prune: (cutoff) => this.db.deleteInBatches(DetectionEntity, 'id', 'x.created_at < :cutoff', { cutoff }),
    });
    this.rowRetention.register({
      name: 'outbox',
      ttl: 'detection',
      prune: (cutoff) => this.db.deleteInBatches(OutboxEntity, 'seq', 'x.created_at < :cutoff', { cutoff }),
    });
    this.rowRetention.register({
      name: 'consumer_fanout',
      ttl: 'detection',
      prune: async (cutoff) =>
        (
          await this.db.run((m) =>
            m.getRepository(ConsumerFanoutEntity).delete({ fannedAt: LessThan(cutoff) }),
          )
        ).affected ?? 0,
    });
  }

  /**
   * The outbox row and the detections in ONE transaction, group-committed with concurrent ingests
   * (each in its own savepoint; resolves after the commit). `inUnit(seq)` runs in the same unit
   * right after the rows are written (the batch's fan-out), so a batch costs one commit. A frame
   * seen before (same camera and frame key) throws the driver's unique violation and writes nothing.
   */
  async ingest<T>(
    outbox: Omit<OutboxEntity, 'seq'>,
    rows: DetectionEntity[],
    inUnit: (seq: number) => Promise<T>,
  ): Promise<{ seq: number; then: T }> {
    if (this.db.isSqlite)
      return this.db.batch(async () => {
        const seq = this.ingestSqlite(outbox, rows);
        return { seq, then: await inUnit(seq) };
      });
    return this.db.batch(async (m) => {
      // The unique (camera_id, frame_id) index is the dedup: a replayed frame fails this insert,
      // the unit rolls back to its savepoint and the caller answers "duplicate".
      const res = await m.getRepository(OutboxEntity).insert({ ...outbox });
      for (let i = 0; i < rows.length; i += DETECTION_CHUNK) {
        await m.getRepository(DetectionEntity).insert(rows.slice(i, i + DETECTION_CHUNK));
      }
      const seq = Number((res.identifiers[0] as { seq: number }).seq);
      return { seq, then: await inUnit(seq) };
    });
  }

  /** SQLite: the same rows through statements prepared once (TypeORM's per-call cost is most of it). */
  private ingestSqlite(outbox: Omit<OutboxEntity, 'seq'>, rows: DetectionEntity[]): number {
    const res = this.db
      .prepared(
        `INSERT INTO outbox (topic, camera_id, site_id, frame_id, task_type, detection_count, provenance,
           produced_by, batch_timestamp, created_at, fanned_out_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
      )
      .run(
        outbox.topic,
        outbox.cameraId,
        outbox.siteId,
        outbox.frameId,
        outbox.taskType,
        outbox.detectionCount,
        outbox.provenance,
        outbox.producedBy,
        outbox.batchTimestamp,
        outbox.createdAt,
        outbox.fannedOutAt,
      );
    // One multi-row INSERT per chunk (a statement prepared once per row count): a step per batch,
    // not one per detection.
    for (let i = 0; i < rows.length; i += DETECTION_CHUNK) {
      const chunk = rows.slice(i, i + DETECTION_CHUNK);
      const values: unknown[] = [];
      for (const r of chunk) {
        values.push(
          r.id,
          r.cameraId,
          r.taskType,
          r.timestamp,
          r.label,
          r.confidence,
          JSON.stringify(r.bbox ?? null), // as the jsonText transformer writes it
          r.trackId,
          JSON.stringify(r.attributes),
          r.frameId,
          r.createdAt,
        );
      }
      this.db.prepared(detectionInsert(chunk.length)).run(values);
    }
    return Number(res.lastInsertRowid);
  }

  /** One group-commit unit for a batch's fan-out (claims, consumers' writes, `markFanned`). */
  fanOutUnit<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.batch(() => fn());
  }

  /** Inside `fanOutUnit`: `fn` in its own savepoint (a throw rolls back its writes alone). */
  isolated<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.isolated(() => fn());
  }

  /** Claim a batch for a consumer: true when this call took it (first time). Group-committed. */
  async claim(consumer: string, cameraId: string, frameId: string, nowIso: string): Promise<boolean> {
    if (this.db.isSqlite) {
      return this.db.batch(
        async () =>
          this.db
            .prepared(
              'INSERT OR IGNORE INTO consumer_fanout (consumer, camera_id, frame_id, fanned_at) VALUES (?,?,?,?)',
            )
            .run(consumer, cameraId, frameId, nowIso).changes === 1,
      );
    }
    return this.db.transaction(async (m) => {
      const repo = m.getRepository(ConsumerFanoutEntity);
      if (await repo.findOne({ select: { consumer: true }, where: { consumer, cameraId, frameId } }))
        return false;
      await repo.insert({ consumer, cameraId, frameId, fannedAt: nowIso });
      return true;
    });
  }

  async unclaim(consumer: string, cameraId: string, frameId: string): Promise<void> {
    await this.db.run((m) => m.getRepository(ConsumerFanoutEntity).delete({ consumer, cameraId, frameId }));
  }

  async markFanned(seq: number, nowIso: string): Promise<void> {
    if (this.db.isSqlite) {
      await this.db.batch(async () => {
        this.db.prepared('UPDATE outbox SET fanned_out_at = ? WHERE seq = ?').run(nowIso, seq);
      });
      return;
    }
    await this.db.run((m) => m.getRepository(OutboxEntity).update({ seq }, { fannedOutAt: nowIso }));
  }

  /** Committed batches whose fan-out did not complete, older than `beforeIso`. */
  unfanned(beforeIso: string, limit: number): Promise<OutboxEntity[]> {
    return this.db.run((m) =>
      m.getRepository(OutboxEntity).find({
        where: { fannedOutAt: IsNull(), frameId: Not(IsNull()), createdAt: LessThan(beforeIso) },
        order: { seq: 'ASC' },
        take: limit,
      }),
    );
  }

  detectionsOfFrame(cameraId: string, frameId: string): Promise<DetectionEntity[]> {
    return this.db.run((m) =>
      m.getRepository(DetectionEntity).find({ where: { cameraId, frameId }, order: { id: 'ASC' } }),
    );
  }

  detections(q: {
    cameraId: string;
    from?: string;
    to?: string;
    label?: string;
    limit: number;
  }): Promise<DetectionEntity[]> {
    return this.db.run((m) => {
      const qb = m
        .getRepository(DetectionEntity)
        .createQueryBuilder('d')
        .where('d.camera_id = :cam', { cam: q.cameraId });
      if (q.from) qb.andWhere('d.timestamp >= :from', { from: q.from });
      if (q.to) qb.andWhere('d.timestamp <= :to', { to: q.to });
      if (q.label) qb.andWhere('d.label = :label', { label: q.label });
      return qb.orderBy('d.timestamp', 'DESC').addOrderBy('d.id', 'DESC').limit(q.limit).getMany();
    });
  }

  async deleteCamera(cameraId: string): Promise<void> {
    await this.db.transaction(async (m: EntityManager) => {
      await m.getRepository(DetectionEntity).delete({ cameraId });
      await m.getRepository(OutboxEntity).delete({ cameraId });
      await m.getRepository(ConsumerFanoutEntity).delete({ cameraId });
    });
  }

  outboxBySeqs(seqs: number[]): Promise<OutboxEntity[]> {
    return this.db.run((m) => m.getRepository(OutboxEntity).findBy({ seq: In(seqs) }));
  }
}
