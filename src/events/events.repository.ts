import { In } from 'typeorm';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RowRetention } from '../common/row-retention';
import { likeEscape } from '../common/like-pattern';
import { DatabaseService } from '../database/database.service';
import { jsonText } from '../database/columns';
import { EventEntity } from './entities/event.entity';
import { EVENT_WRITER_LOCK, EVENTS_CHANNEL } from './event-horizon';
import { SEVERITIES, severityRank } from './event-types';

export interface EventQuery {
  cameraId?: string;
  /** A camera-scoped reader's cameras: only their events (camera-less ones excluded). */
  cameraIds?: readonly string[];
  eventType?: string;
  minSeverity?: string;
  sinceSeq?: number;
  /** With `sinceSeq`: read no further than this seq (the visibility horizon, PostgreSQL). */
  untilSeq?: number;
  limit: number;
}

@Injectable()
export class EventsRepository implements OnModuleInit {
  constructor(
    private readonly db: DatabaseService,
    private readonly rowRetention: RowRetention,
  ) {}

  onModuleInit(): void {
    this.rowRetention.register({
      name: 'events',
      ttl: 'audit',
      prune: (cutoff) => this.db.deleteInBatches(EventEntity, 'seq', 'x.created_at < :cutoff', { cutoff }),
    });
  }

  bySeqs(seqs: number[]): Promise<EventEntity[]> {
    if (seqs.length === 0) return Promise.resolve([]);
    return this.db.run((m) => m.getRepository(EventEntity).findBy({ seq: In(seqs) }));
  }

  async maxSeq(): Promise<number> {
    const row = await this.db.run((m) =>
      m
        .getRepository(EventEntity)
        .createQueryBuilder('e')
        .select('MAX(e.seq)', 'max')
        .getRawOne<{ max: number | string | null }>(),
    );
    return Number(row?.max ?? 0);
  }

  async insert(row: Omit<EventEntity, 'seq'>): Promise<EventEntity> {
    if (this.db.isSqlite) {
      // The hot path (every zone event, every worker event): a statement prepared once.
      return this.db.run(async () => {
        const res = this.db
          .prepared(
            `INSERT INTO events (id, camera_id, site_id, event_type, severity, timestamp, payload, created_at)
             VALUES (?,?,?,?,?,?,?,?)`,
          )
          .run(
            row.id,
            row.cameraId,
            row.siteId,
            row.eventType,
            row.severity,
            row.timestamp,
            JSON.stringify(row.payload ?? null),
            row.createdAt,
          );
        return { ...row, seq: Number(res.lastInsertRowid) };
      });
    }
    return this.db.run(async (m) => {
      // The writer lock (shared) is taken before the seq default is drawn (the CTE is scanned
      // before the row is built) and held until this transaction ends: see EventHorizon. The
      // other nodes of a cluster hear of the row by a notification, delivered at commit (never
      // for a rollback), in the same statement: no extra round trip (see EventRelay).
      const rows = await m.query<Array<{ seq: number | string }>>(
        `WITH w AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared($9::int, $10::int)),
         ins AS (
           INSERT INTO events (id, camera_id, site_id, event_type, severity, timestamp, payload, created_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM w RETURNING seq)
         SELECT seq, pg_notify('${EVENTS_CHANNEL}', seq::text) FROM ins`,
        [
          row.id,
          row.cameraId,
          row.siteId,
          row.eventType,
          row.severity,
          row.timestamp,
          JSON.stringify(row.payload ?? null),
          row.createdAt,
          EVENT_WRITER_LOCK[0],
          EVENT_WRITER_LOCK[1],
        ],
      );
      return { ...row, seq: Number(rows[0].seq) };
    });
  }

  /**
   * Every event after `seq`, ascending, at most `limit` (the webhook dispatcher's read after each
   * commit). SQLite: a statement prepared once, rows mapped as the entity maps them.
   */
  async after(seq: number, limit: number, untilSeq?: number): Promise<EventEntity[]> {
    if (!this.db.isSqlite) return this.find({ sinceSeq: seq, untilSeq, limit });
    return this.db.run(async () => {
      const rows = this.db
        .prepared(
          `SELECT seq, id, camera_id, site_id, event_type, severity, timestamp, payload, created_at
             FROM events WHERE seq > ? ORDER BY seq ASC LIMIT ?`,
        )
        .all(seq, limit) as Array<{
        seq: number;
        id: string;
        camera_id: string | null;
        site_id: string | null;
        event_type: string;
        severity: string;
        timestamp: string;
        payload: string | null;
        created_at: string;
      }>;
      return rows.map((r) => ({
        seq: r.seq,
        id: r.id,
        cameraId: r.camera_id,
        siteId: r.site_id,
        eventType: r.event_type,
        severity: r.severity,
        timestamp: r.timestamp,
        payload: jsonText.from(r.payload) as EventEntity['payload'],
        createdAt: r.created_at,
      }));
    });
  }

  /** With `sinceSeq`: ascending after the cursor (polling); otherwise newest first. */
  async find(q: EventQuery): Promise<EventEntity[]> {
    if (q.cameraIds?.length === 0) return [];
    return this.db.run((m) => {
      const qb = m.getRepository(EventEntity).createQueryBuilder('e');
      if (q.cameraId) qb.andWhere('e.camera_id = :cameraId', { cameraId: q.cameraId });
      if (q.cameraIds) qb.andWhere('e.camera_id IN (:...cameraIds)', { cameraIds: [...q.cameraIds] });
      if (q.eventType?.endsWith('*')) {
        // A literal prefix: `_` inside it is a character, not LIKE's one-character wildcard.
        qb.andWhere("e.event_type LIKE :prefix ESCAPE '\\'", {
          prefix: `${likeEscape(q.eventType.slice(0, -1))}%`,
        });
      } else if (q.eventType) {
        qb.andWhere('e.event_type = :eventType', { eventType: q.eventType });
      }
      if (q.minSeverity) {
        qb.andWhere('e.severity IN (:...sev)', {
          sev: SEVERITIES.filter((s) => severityRank(s) >= severityRank(q.minSeverity!)),
        });
      }
      if (q.sinceSeq !== undefined) {
        qb.andWhere('e.seq > :since', { since: q.sinceSeq }).orderBy('e.seq', 'ASC');
        if (q.untilSeq !== undefined) qb.andWhere('e.seq <= :until', { until: q.untilSeq });
      } else {
        qb.orderBy('e.seq', 'DESC');
      }
      return qb.limit(q.limit).getMany();
    });
  }

  async distinctTypes(limit: number): Promise<string[]> {
    return this.db.run(async (m) => {
      const rows: Array<{ event_type: string }> = await m
        .getRepository(EventEntity)
        .createQueryBuilder('e')
        .select('DISTINCT e.event_type', 'event_type')
        .orderBy('event_type')
        .limit(limit)
        .getRawMany();
      return rows.map((r) => r.event_type);
    });
  }
}
