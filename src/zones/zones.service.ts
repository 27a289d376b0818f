import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { type Principal } from '../auth/principal';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { NotFoundError } from '../common/errors';
import { prefixedId } from '../common/ids';
import { CacheInvalidation } from '../events/cache-invalidation';
import type { ZoneEntity } from './entities/zone.entity';
import type { ZoneEventEntity } from './entities/zone-event.entity';
import { ZONES_CACHE } from './zone-detections.consumer';
import { evidenceEventId } from './zone-evidence';
import { checkConfig, checkGeometry, type ZoneInput } from './zone-validation';
import { type ZoneEventQuery, ZonesRepository } from './zones.repository';
import { loadScoped } from '../common/validation';

export type { ZoneInput } from './zone-validation';

/** Zones CRUD (audited) and the reads of zone events, aggregates and occupancy. */
@Injectable()
export class ZonesService {
  constructor(
    private readonly repo: ZonesRepository,
    private readonly caches: CacheInvalidation,
    private readonly cameras: CamerasService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  // --- CRUD -------------------------------------------------------------------------------

  list(cameraId: string): Promise<ZoneEntity[]> {
    return this.repo.forCamera(cameraId);
  }

  private async load(p: Principal, id: string): Promise<ZoneEntity> {
    return loadScoped(p, () => this.repo.get(id), {
      forbidden: `credential is not scoped to the camera of zone \`${id}\``,
      notFound: () => new NotFoundError(`zone \`${id}\` not found`, 'ZONE_NOT_FOUND'),
    });
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
    const res = await this.repo.transaction(async () => {
      const existing = await this.repo.byName(cameraId, input.name);
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
      await this.repo.insert(row);
      await this.audit.record(p, 'create_zone', 'zone', row.id, {
        camera_id: cameraId,
        name: row.name,
        kind,
      });
      return { zone: row, created: true };
    });
    if (res.created) await this.caches.publish(ZONES_CACHE, { camera: cameraId });
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
    await this.repo.transaction(async () => {
      await this.repo.update(id, patch);
      await this.audit.record(p, 'update_zone', 'zone', id, {
        camera_id: z.cameraId,
        fields: Object.keys(input),
      });
    });
    await this.caches.publish(ZONES_CACHE, { camera: z.cameraId, zone: id });
    return (await this.repo.get(id))!;
  }

  async delete(p: Principal, id: string): Promise<void> {
    const z = await this.load(p, id);
    await this.repo.transaction(async () => {
      await this.repo.delete(id);
      await this.audit.record(p, 'delete_zone', 'zone', id, { camera_id: z.cameraId });
    });
    await this.caches.publish(ZONES_CACHE, { camera: z.cameraId, zone: id, deleted: 'true' });
  }

  // --- Reads ------------------------------------------------------------------------------

  zoneEvents(q: ZoneEventQuery): Promise<ZoneEventEntity[]> {
    return this.repo.findEvents(q);
  }

  /** Counts per zone, event type and epoch-aligned bucket. */
  async aggregates(cameraId: string, fromIso: string, toIso: string, bucketMinutes: number) {
    const rows = await this.repo.eventTimes(cameraId, fromIso, toIso);
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
    const id = evidenceEventId(file);
    return id ? this.repo.getEvent(id) : Promise.resolve(null);
  }

  async occupancyOf(
    cameraId: string,
  ): Promise<Array<{ zone_id: string; count: number; updated_at: string | null }>> {
    const zones = await this.repo.forCamera(cameraId, true);
    const occ = await this.repo.occupancy(cameraId);
    return zones.map((z) => {
      const o = occ.find((x) => x.zoneId === z.id);
      return { zone_id: z.id, count: o?.count ?? 0, updated_at: o?.updatedAt ?? null };
    });
  }
}
