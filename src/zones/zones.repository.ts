import { Injectable } from '@nestjs/common';
import { Between, In } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { ZoneEntity } from './entities/zone.entity';
import { ZoneEventEntity } from './entities/zone-event.entity';
import { ZoneOccupancyEntity } from './entities/zone-occupancy.entity';

export interface ZoneEventQuery {
  cameraId: string;
  from?: string;
  to?: string;
  zoneId?: string;
  eventType?: string;
  trackId?: string;
  limit: number;
}

/** The zones module's tables: zones, zone_events, zone_occupancy. */
@Injectable()
export class ZonesRepository {
  constructor(private readonly db: DatabaseService) {}

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.transaction(() => fn());
  }

  // --- zones ------------------------------------------------------------------------------

  forCamera(cameraId: string, enabledOnly = false): Promise<ZoneEntity[]> {
    return this.db.run((m) =>
      m.getRepository(ZoneEntity).find({
        where: enabledOnly ? { cameraId, enabled: true } : { cameraId },
        order: { createdAt: 'ASC' },
      }),
    );
  }

  get(id: string): Promise<ZoneEntity | null> {
    return this.db.run((m) => m.getRepository(ZoneEntity).findOneBy({ id }));
  }

  byName(cameraId: string, name: string): Promise<ZoneEntity | null> {
    return this.db.run((m) => m.getRepository(ZoneEntity).findOneBy({ cameraId, name }));
  }

  async insert(row: ZoneEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(ZoneEntity).insert({ ...row }));
  }

  async update(id: string, patch: Partial<ZoneEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(ZoneEntity).update({ id }, patch));
  }

  /** The zone and its occupancy row (its events stay, as history). */
  async delete(id: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.getRepository(ZoneEntity).delete({ id });
      await m.getRepository(ZoneOccupancyEntity).delete({ zoneId: id });
    });
  }

  /** Everything of a deleted camera: its zones, their events and occupancy (one transaction). */
  async deleteCamera(cameraId: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const ids = (await m.getRepository(ZoneEntity).find({ select: { id: true }, where: { cameraId } })).map(
        (z) => z.id,
      );
      await m.getRepository(ZoneEntity).delete({ cameraId });
      await m.getRepository(ZoneEventEntity).delete({ cameraId });
      if (ids.length > 0) await m.getRepository(ZoneOccupancyEntity).delete({ zoneId: In(ids) });
    });
  }

  // --- zone events ------------------------------------------------------------------------

  /**
   * The batch's zone events and whatever `then` writes (their kernel events) in one unit,
   * group-committed with other batches' (its own savepoint: a failure fails this batch alone).
   */
  async insertEvents(rows: ZoneEventEntity[], then: () => Promise<void>): Promise<void> {
    await this.db.batch(async (m) => {
      if (!this.db.isSqlite) await m.getRepository(ZoneEventEntity).insert(rows.map((r) => ({ ...r })));
      else {
        const ins = this.db.prepared(
          `INSERT INTO zone_events (id, camera_id, zone_id, zone_name, track_id, event_type, label, timestamp,
             dwell_seconds, evidence_path, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
        );
        for (const r of rows)
          ins.run(
            r.id,
            r.cameraId,
            r.zoneId,
            r.zoneName,
            r.trackId,
            r.eventType,
            r.label,
            r.timestamp,
            r.dwellSeconds,
            r.evidencePath,
            r.createdAt,
          );
      }
      await then();
    });
  }

  findEvents(q: ZoneEventQuery): Promise<ZoneEventEntity[]> {
    return this.db.run((m) => {
      const qb = m
        .getRepository(ZoneEventEntity)
        .createQueryBuilder('e')
        .where('e.camera_id = :cam', { cam: q.cameraId });
      if (q.from) qb.andWhere('e.timestamp >= :from', { from: q.from });
      if (q.to) qb.andWhere('e.timestamp <= :to', { to: q.to });
      if (q.zoneId) qb.andWhere('e.zone_id = :zone', { zone: q.zoneId });
      if (q.eventType) qb.andWhere('e.event_type = :type', { type: q.eventType });
      if (q.trackId) qb.andWhere('e.track_id = :track', { track: q.trackId });
      return qb.orderBy('e.timestamp', 'DESC').addOrderBy('e.id', 'DESC').limit(q.limit).getMany();
    });
  }

  /** Zone, type and time of the camera's events in [from, to] (for the aggregates). */
  eventTimes(
    cameraId: string,
    fromIso: string,
    toIso: string,
  ): Promise<Array<Pick<ZoneEventEntity, 'zoneId' | 'zoneName' | 'eventType' | 'timestamp'>>> {
    return this.db.run((m) =>
      m.getRepository(ZoneEventEntity).find({
        select: { zoneId: true, zoneName: true, eventType: true, timestamp: true },
        where: { cameraId, timestamp: Between(fromIso, toIso) },
      }),
    );
  }

  getEvent(id: string): Promise<ZoneEventEntity | null> {
    return this.db.run((m) => m.getRepository(ZoneEventEntity).findOneBy({ id }));
  }

  /** Row retention: zone events created before `cutoff`. */
  pruneEventsBefore(cutoff: string): Promise<number> {
    return this.db.deleteInBatches(ZoneEventEntity, 'id', 'x.created_at < :cutoff', { cutoff });
  }

  // --- occupancy --------------------------------------------------------------------------

  occupancy(cameraId: string): Promise<ZoneOccupancyEntity[]> {
    return this.db.run((m) => m.getRepository(ZoneOccupancyEntity).find({ where: { cameraId } }));
  }

  async writeOccupancy(
    cameraId: string,
    changed: Array<{ zoneId: string; count: number }>,
    now: string,
  ): Promise<void> {
    if (this.db.isSqlite) {
      // Per batch on the ingest path: statements prepared once, group-committed with other batches.
      await this.db.batch(async () => {
        const up = this.db.prepared(
          `INSERT INTO zone_occupancy (zone_id, camera_id, count, updated_at) VALUES (?,?,?,?)
           ON CONFLICT (zone_id) DO UPDATE SET camera_id = excluded.camera_id, count = excluded.count,
           updated_at = excluded.updated_at`,
        );
        for (const o of changed) up.run(o.zoneId, cameraId, o.count, now);
      });
      return;
    }
    await this.db.run((m) =>
      m.getRepository(ZoneOccupancyEntity).upsert(
        changed.map((o) => ({ zoneId: o.zoneId, cameraId, count: o.count, updatedAt: now })),
        ['zoneId'],
      ),
    );
  }
}
