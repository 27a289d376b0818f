import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { Between, type EntityManager, In } from 'typeorm';
import type { DetectionBatch, DetectionConsumer } from '../ai/detection-consumer';
import { AuditService } from '../audit/audit.service';
import { canSeeCamera, type Principal } from '../auth/principal';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { BadRequestError, ForbiddenError, NotFoundError } from '../common/errors';
import { prefixedId } from '../common/ids';
import { Loops } from '../common/loops';
import { RowRetention } from '../common/row-retention';
import { HeldarConfig } from '../config/heldar-config';
import type { JsonObject } from '../database/columns';
import { DatabaseService } from '../database/database.service';
import { EventBus } from '../events/event-bus';
import { EventsService } from '../events/events.service';
import { ZoneEntity } from './entities/zone.entity';
import { ZoneEventEntity } from './entities/zone-event.entity';
import { ZoneOccupancyEntity } from './entities/zone-occupancy.entity';
import { type ZoneDef, ZoneEngine, type ZoneEngineEvent } from './zone-engine';

export interface ZoneInput {
  name?: string;
  kind?: 'region' | 'presence' | 'line';
  polygon?: Array<[number, number]>;
  dwell_seconds?: number;
  labels?: string[];
  severity?: string;
  config?: JsonObject;
  enabled?: boolean;
}

const CONFIG_KEYS: Record<string, (v: unknown) => boolean> = {
  min_confidence: (v) => typeof v === 'number' && v >= 0 && v <= 1,
  confirm_frames: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 10,
  direction: (v) => v === 'any' || v === 'ab' || v === 'ba',
  static_suppression: (v) => typeof v === 'boolean',
  static_epsilon: (v) => typeof v === 'number' && v > 0 && v <= 1,
  static_after_seconds: (v) => typeof v === 'number' && v >= 1 && v <= 86_400,
};

/** Polygon rules per kind: 3..512 points for areas, exactly 2 for a line; all within 0..1. */
export function checkGeometry(kind: string, polygon: unknown): Array<[number, number]> {
  if (!Array.isArray(polygon))
    throw new BadRequestError('polygon must be an array of [x, y] points', 'VALIDATION_FAILED');
  const pts = polygon.map((p: unknown, i) => {
    if (
      !Array.isArray(p) ||
      p.length !== 2 ||
      !p.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1)
    ) {
      throw new BadRequestError(`polygon[${i}] must be [x, y] with 0 ≤ x, y ≤ 1`, 'VALIDATION_FAILED');
    }
    return [p[0], p[1]] as [number, number];
  });
  if (kind === 'line' ? pts.length !== 2 : pts.length < 3 || pts.length > 512) {
    throw new BadRequestError(
      kind === 'line' ? 'a line zone has exactly 2 points' : 'a region has 3 to 512 points',
      'VALIDATION_FAILED',
    );
  }
  return pts;
}

export function checkConfig(config: JsonObject): JsonObject {
  for (const [k, v] of Object.entries(config)) {
    const ok = CONFIG_KEYS[k];
    if (!ok)
      throw new BadRequestError(
        `config.${k} is not a zone setting (${Object.keys(CONFIG_KEYS).join(', ')})`,
        'VALIDATION_FAILED',
      );
    if (!ok(v)) throw new BadRequestError(`config.${k} has an invalid value`, 'VALIDATION_FAILED');
  }
  return config;
}

function toDef(z: ZoneEntity): ZoneDef {
  const c = z.config;
  return {
    id: z.id,
    cameraId: z.cameraId,
    name: z.name,
    kind: z.kind,
    polygon: z.polygon,
    labels: z.labels,
    minConfidence: typeof c.min_confidence === 'number' ? c.min_confidence : 0.5,
    confirmFrames: typeof c.confirm_frames === 'number' ? c.confirm_frames : 2,
    dwellSeconds: z.dwellSeconds,
    direction: (c.direction as ZoneDef['direction'] | undefined) ?? 'any',
    staticSuppression: c.static_suppression !== false,
    enabled: z.enabled,
    ...(typeof c.static_epsilon === 'number' ? { staticEpsilon: c.static_epsilon } : {}),
    ...(typeof c.static_after_seconds === 'number' ? { staticAfterSeconds: c.static_after_seconds } : {}),
  };
}

/**
 * Zones and the kernel's own detection consumer: each batch runs through the zone engine (state
 * per camera, server time); what it emits becomes `zone_events` rows and `zone_*` kernel events,
 * with a copy of the latest sub frame as evidence for enters and crossings.
 */
@Injectable()
export class ZonesService implements DetectionConsumer, OnModuleInit, OnApplicationBootstrap {
  readonly name = 'zones';
  /** The zone engine and store writes only: run inside the fan-out's group-commit unit. */
  readonly transactional = true;
  private readonly logger = new Logger('Zones');
  private readonly engine: ZoneEngine;
  private readonly defs = new Map<string, ZoneDef[]>();
  private readonly occupancy = new Map<string, number>();
  private subscription?: Subscription;
  private chain = new Map<string, Promise<void>>();
  private snapshotsReady = false;

  constructor(
    private readonly db: DatabaseService,
    private readonly cameras: CamerasService,
    private readonly events: EventsService,
    private readonly bus: EventBus,
    private readonly audit: AuditService,
    private readonly rowRetention: RowRetention,
    private readonly loops: Loops,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {
    this.engine = new ZoneEngine({ nowMs: () => this.clock.nowMs() });
  }

  onModuleInit(): void {
    this.rowRetention.register({
      name: 'zone_events',
      ttl: 'detection',
      prune: (cutoff) => this.db.deleteInBatches(ZoneEventEntity, 'id', 'x.created_at < :cutoff', { cutoff }),
    });
  }

  onApplicationBootstrap(): void {
    this.subscription = this.bus.events$.subscribe((e) => {
      if (e.eventType === 'camera_deleted' && e.cameraId)
        void this.forgetCamera(e.cameraId).catch(() => undefined);
    });
    // Tracks that stopped appearing (the worker went quiet) still get their exit.
    this.loops.start('zone_timeouts', 10_000, () => this.sweep());
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }

  interestedIn(): boolean {
    return true;
  }

  /** Batches of one camera are processed in order; cameras run independently. */
  consume(batch: DetectionBatch): Promise<void> {
    const prev = this.chain.get(batch.cameraId) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.consumeNow(batch));
    this.chain.set(batch.cameraId, next);
    void next
      .finally(() => {
        if (this.chain.get(batch.cameraId) === next) this.chain.delete(batch.cameraId);
      })
      .catch(() => undefined);
    return next;
  }

  private async consumeNow(batch: DetectionBatch): Promise<void> {
    const zones = await this.zonesOf(batch.cameraId);
    if (zones.length === 0) return;
    const dets = [];
    for (const d of batch.detections) {
      if (d.trackId === null || d.bbox === null) continue;
      // As the reference: a detection without confidence is below any floor but 0.
      dets.push({ trackId: d.trackId, label: d.label, confidence: d.confidence ?? 0, bbox: d.bbox });
    }
    const out = this.engine.process(batch.cameraId, zones, dets);
    await this.record(out.events);
    for (const n of out.notices) {
      await this.events.emit({
        type: 'zone_static_suppressed',
        severity: 'info',
        cameraId: n.cameraId,
        payload: { zone_id: n.zoneId, zone: n.zoneName, track_id: n.trackId, label: n.label },
      });
    }
    await this.writeOccupancy(batch.cameraId, out.occupancy);
  }

  /** Exits of tracks that stopped appearing, and the occupancy they change. */
  async sweep(): Promise<void> {
    const exits = this.engine.sweepAll();
    await this.record(exits);
    for (const cameraId of new Set(exits.map((e) => e.cameraId))) {
      await this.writeOccupancy(cameraId, this.engine.occupancy(cameraId, await this.zonesOf(cameraId)));
    }
  }

  private async writeOccupancy(
    cameraId: string,
    occupancy: Array<{ zoneId: string; count: number }>,
  ): Promise<void> {
    const now = this.clock.nowIso();
    const changed = occupancy.filter((o) => this.occupancy.get(o.zoneId) !== o.count);
    if (changed.length === 0) return;
    for (const o of changed) this.occupancy.set(o.zoneId, o.count);
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

  private async record(events: ZoneEngineEvent[]): Promise<void> {
    if (events.length === 0) return;
    const severities = new Map<string, string>();
    for (const list of this.defs.values())
      for (const z of list) severities.set(z.id, (z as ZoneDef & { severity?: string }).severity ?? 'info');
    const rows: ZoneEventEntity[] = [];
    for (const e of events) {
      const id = prefixedId('zev_');
      const evidence =
        e.type === 'enter' || e.type.startsWith('cross') ? await this.evidence(e.cameraId, id) : null;
      rows.push({
        id,
        cameraId: e.cameraId,
        zoneId: e.zoneId,
        zoneName: e.zoneName,
        trackId: e.trackId,
        eventType: e.type,
        label: e.label,
        timestamp: new Date(e.atMs).toISOString(),
        dwellSeconds: e.dwellSeconds,
        evidencePath: evidence,
        createdAt: this.clock.nowIso(),
      });
    }
    // One transaction for the batch's zone events and their kernel events (published on commit),
    // group-committed with other batches' (its own savepoint: a failure here fails this batch alone).
    await this.db.batch(async (m) => {
      await this.insertZoneEvents(m, rows);
      for (const r of rows) {
        await this.events.emit({
          type: `zone_${r.eventType}`,
          severity: (severities.get(r.zoneId) ?? 'info') as 'info',
          cameraId: r.cameraId,
          timestamp: r.timestamp,
          payload: {
            zone_event_id: r.id,
            zone_id: r.zoneId,
            zone: r.zoneName,
            track_id: r.trackId,
            label: r.label,
            dwell_seconds: r.dwellSeconds,
            evidence: r.evidencePath,
          },
        });
      }
    });
  }

  private async insertZoneEvents(m: EntityManager, rows: ZoneEventEntity[]): Promise<void> {
    if (!this.db.isSqlite) {
      await m.getRepository(ZoneEventEntity).insert(rows.map((r) => ({ ...r })));
      return;
    }
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

  /** Copy of the camera's latest sub frame (null without one). */
  private async evidence(cameraId: string, zevId: string): Promise<string | null> {
    const dir = join(this.config.dataDirAbs, 'snapshots');
    try {
      if (!this.snapshotsReady) {
        await mkdir(dir, { recursive: true });
        this.snapshotsReady = true;
      }
      const latest = join(this.config.framesDirAbs, cameraId, 'latest_sub.jpg');
      // A camera without a sampled frame (common for worker-only cameras): one stat, not a copy attempt.
      if (!existsSync(latest)) return null;
      await copyFile(latest, join(dir, `zoneevt_${zevId}.jpg`));
      return `/media/snapshots/zoneevt_${zevId}.jpg`;
    } catch {
      return null;
    }
  }

  private async zonesOf(cameraId: string): Promise<ZoneDef[]> {
    let defs = this.defs.get(cameraId);
    if (!defs) {
      const rows = await this.db.run((m) =>
        m.getRepository(ZoneEntity).find({ where: { cameraId, enabled: true }, order: { createdAt: 'ASC' } }),
      );
      defs = rows.map((z) => Object.assign(toDef(z), { severity: z.severity }));
      this.defs.set(cameraId, defs);
    }
    return defs;
  }

  private async forgetCamera(cameraId: string): Promise<void> {
    this.defs.delete(cameraId);
    this.engine.forgetCamera(cameraId);
    await this.db.transaction(async (m) => {
      const ids = (await m.getRepository(ZoneEntity).find({ select: { id: true }, where: { cameraId } })).map(
        (z) => z.id,
      );
      await m.getRepository(ZoneEntity).delete({ cameraId });
      await m.getRepository(ZoneEventEntity).delete({ cameraId });
      if (ids.length > 0) await m.getRepository(ZoneOccupancyEntity).delete({ zoneId: In(ids) });
    });
  }

  // --- CRUD -------------------------------------------------------------------------------

  list(cameraId: string): Promise<ZoneEntity[]> {
    return this.db.run((m) =>
      m.getRepository(ZoneEntity).find({ where: { cameraId }, order: { createdAt: 'ASC' } }),
    );
  }

  private async load(p: Principal, id: string): Promise<ZoneEntity> {
    const z = await this.db.run((m) => m.getRepository(ZoneEntity).findOneBy({ id }));
    if (p.cameraScope !== 'all' && (!z || !canSeeCamera(p, z.cameraId))) {
      throw new ForbiddenError(`credential is not scoped to the camera of zone \`${id}\``, 'CAMERA_SCOPE');
    }
    if (!z) throw new NotFoundError(`zone \`${id}\` not found`, 'ZONE_NOT_FOUND');
    return z;
  }

  /** Idempotent per (camera, name): the existing zone is returned as is. */
  async create(
    p: Principal,
    cameraId: string,
    input: ZoneInput & { name: string; polygon: Array<[number, number]> },
  ): Promise<{ zone: ZoneEntity; created: boolean }> {
    if (!(await this.cameras.lookup(cameraId)))
      throw new NotFoundError(`camera \`${cameraId}\` not found`, 'CAMERA_NOT_FOUND');
    const kind = input.kind ?? 'region';
    const polygon = checkGeometry(kind, input.polygon);
    const config = checkConfig(input.config ?? {});
    const res = await this.db.transaction(async (m) => {
      const existing = await m.getRepository(ZoneEntity).findOneBy({ cameraId, name: input.name });
      if (existing) return { zone: existing, created: false };
      const now = this.clock.nowIso();
      const row: ZoneEntity = {
        id: prefixedId('zone_'),
        cameraId,
        name: input.name,
        kind,
        polygon,
        dwellSeconds: input.dwell_seconds ?? 0,
        labels: input.labels ?? [],
        severity: input.severity ?? 'info',
        config,
        enabled: input.enabled ?? true,
        createdAt: now,
        updatedAt: now,
      };
      await m.getRepository(ZoneEntity).insert({ ...row });
      await this.audit.record(p, 'create_zone', 'zone', row.id, {
        camera_id: cameraId,
        name: row.name,
        kind,
      });
      return { zone: row, created: true };
    });
    this.defs.delete(cameraId);
    return res;
  }

  async update(p: Principal, id: string, input: ZoneInput): Promise<ZoneEntity> {
    const z = await this.load(p, id);
    const kind = input.kind ?? z.kind;
    const patch: Partial<ZoneEntity> = { updatedAt: this.clock.nowIso() };
    if (input.kind !== undefined || input.polygon !== undefined)
      patch.polygon = checkGeometry(kind, input.polygon ?? z.polygon);
    if (input.kind !== undefined) patch.kind = input.kind;
    if (input.name !== undefined) patch.name = input.name;
    if (input.dwell_seconds !== undefined) patch.dwellSeconds = input.dwell_seconds;
    if (input.labels !== undefined) patch.labels = input.labels;
    if (input.severity !== undefined) patch.severity = input.severity;
    if (input.config !== undefined) patch.config = checkConfig(input.config);
    if (input.enabled !== undefined) patch.enabled = input.enabled;
    await this.db.transaction(async (m) => {
      await m.getRepository(ZoneEntity).update({ id }, patch);
      await this.audit.record(p, 'update_zone', 'zone', id, {
        camera_id: z.cameraId,
        fields: Object.keys(input),
      });
    });
    this.defs.delete(z.cameraId);
    this.engine.forgetZone(id);
    return (await this.db.run((m) => m.getRepository(ZoneEntity).findOneBy({ id })))!;
  }

  async delete(p: Principal, id: string): Promise<void> {
    const z = await this.load(p, id);
    await this.db.transaction(async (m) => {
      await m.getRepository(ZoneEntity).delete({ id });
      await m.getRepository(ZoneOccupancyEntity).delete({ zoneId: id });
      await this.audit.record(p, 'delete_zone', 'zone', id, { camera_id: z.cameraId });
    });
    this.defs.delete(z.cameraId);
    this.engine.forgetZone(id);
    this.occupancy.delete(id);
  }

  // --- Reads ------------------------------------------------------------------------------

  zoneEvents(q: {
    cameraId: string;
    from?: string;
    to?: string;
    zoneId?: string;
    eventType?: string;
    trackId?: string;
    limit: number;
  }): Promise<ZoneEventEntity[]> {
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

  /** Counts per zone, event type and epoch-aligned bucket. */
  async aggregates(cameraId: string, fromIso: string, toIso: string, bucketMinutes: number) {
    const rows = await this.db.run((m) =>
      m.getRepository(ZoneEventEntity).find({
        select: { zoneId: true, zoneName: true, eventType: true, timestamp: true },
        where: { cameraId, timestamp: Between(fromIso, toIso) },
      }),
    );
    const size = bucketMinutes * 60_000;
    const buckets = new Map<
      string,
      { zone_id: string; zone_name: string; event_type: string; bucket_start: string; count: number }
    >();
    for (const e of rows) {
      const start = new Date(Math.floor(Date.parse(e.timestamp) / size) * size).toISOString();
      const key = `${e.zoneId}|${e.eventType}|${start}`;
      const b = buckets.get(key) ?? {
        zone_id: e.zoneId,
        zone_name: e.zoneName,
        event_type: e.eventType,
        bucket_start: start,
        count: 0,
      };
      b.count++;
      buckets.set(key, b);
    }
    return { from: fromIso, to: toIso, bucket_minutes: bucketMinutes, buckets: [...buckets.values()] };
  }

  /** The zone event behind an evidence file (`zoneevt_<id>.jpg`), for the media route's scope check. */
  evidenceOwner(file: string): Promise<ZoneEventEntity | null> {
    const m = /^zoneevt_(zev_[A-Za-z0-9]+)\.jpg$/.exec(file);
    if (!m) return Promise.resolve(null);
    return this.db.run((mgr) => mgr.getRepository(ZoneEventEntity).findOneBy({ id: m[1] }));
  }

  async occupancyOf(
    cameraId: string,
  ): Promise<Array<{ zone_id: string; count: number; updated_at: string | null }>> {
    const zones = await this.db.run((m) =>
      m.getRepository(ZoneEntity).find({ where: { cameraId, enabled: true }, order: { createdAt: 'ASC' } }),
    );
    const occ = await this.db.run((m) => m.getRepository(ZoneOccupancyEntity).find({ where: { cameraId } }));
    return zones.map((z) => {
      const o = occ.find((x) => x.zoneId === z.id);
      return { zone_id: z.id, count: o?.count ?? 0, updated_at: o?.updatedAt ?? null };
    });
  }
}
