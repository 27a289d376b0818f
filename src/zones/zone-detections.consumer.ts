import { Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { DetectionBatch, DetectionConsumer } from '../ai/detection-consumer';
import { CameraDeletionHooks } from '../cameras/camera-deletion-hooks';
import { Clock } from '../common/clock';
import { prefixedId } from '../common/ids';
import { Loops } from '../common/loops';
import { RowRetention } from '../common/row-retention';
import { CacheInvalidation, type CacheKeys } from '../events/cache-invalidation';
import { EventsService } from '../events/events.service';
import type { Severity } from '../events/event-types';
import type { ZoneEntity } from './entities/zone.entity';
import type { ZoneEventEntity } from './entities/zone-event.entity';
import { type ZoneDef, ZoneEngine, type ZoneEngineEvent } from './zone-engine';
import { ZoneEvidence } from './zone-evidence';
import { ZonesRepository } from './zones.repository';
import { KeyedSerialQueue } from '../common/validation';

type ZoneRule = ZoneDef & { severity: string };

function toDef(z: ZoneEntity): ZoneRule {
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
    severity: z.severity,
  };
}

/** The cache scope of zone rows: keys `camera`, and `zone` (+ `deleted: 'true'`) for one zone. */
export const ZONES_CACHE = 'zones';

/**
 * The kernel's own detection consumer: each batch runs through the zone engine (state per
 * camera, server time); what it emits becomes `zone_events` rows and `zone_*` kernel events, with
 * an evidence frame for enters and crossings, and the zones' occupancy is kept current.
 */
@Injectable()
export class ZoneDetectionsConsumer implements DetectionConsumer, OnModuleInit, OnApplicationBootstrap {
  readonly name = 'zones';
  /** The zone engine and store writes only: run inside the fan-out's group-commit unit. */
  readonly transactional = true;
  private readonly engine: ZoneEngine;
  /** Enabled zones per camera (read on first use, dropped when they change, on any node). */
  private readonly defs = new Map<string, ZoneRule[]>();
  /** Moves at every drop: a read begun before a change is not kept. */
  private defsGeneration = 0;
  /** The last occupancy written per zone. */
  private readonly occupancy = new Map<string, number>();
  private readonly chain = new KeyedSerialQueue();

  constructor(
    private readonly repo: ZonesRepository,
    private readonly evidence: ZoneEvidence,
    private readonly events: EventsService,
    private readonly deletionHooks: CameraDeletionHooks,
    private readonly rowRetention: RowRetention,
    private readonly loops: Loops,
    private readonly clock: Clock,
    private readonly caches: CacheInvalidation,
  ) {
    this.engine = new ZoneEngine({ nowMs: () => this.clock.nowMs() });
  }

  onModuleInit(): void {
    // Zones changed through this node or another one (ZonesService publishes after the commit).
    this.caches.on(ZONES_CACHE, (keys) => this.onZonesChanged(keys), 'zone-detections');
    this.rowRetention.register({
      name: 'zone_events',
      ttl: 'detection',
      prune: (cutoff) => this.repo.pruneEventsBefore(cutoff),
    });
  }

  onApplicationBootstrap(): void {
    this.deletionHooks.add('zones', (cameraId) => this.forgetCamera(cameraId));
    // Tracks that stopped appearing (the worker went quiet) still get their exit.
    this.loops.start('zone_timeouts', 10_000, () => this.sweep());
  }

  interestedIn(): boolean {
    return true;
  }

  /** Zones changed (`null`: any of them may have): read them again; a changed zone's tracks restart. */
  private onZonesChanged(keys: CacheKeys | null): void {
    this.defsGeneration++;
    if (!keys?.camera) {
      this.defs.clear();
      return;
    }
    this.defs.delete(keys.camera);
    if (keys.zone === undefined) return;
    this.engine.forgetZone(keys.zone);
    if (keys.deleted === 'true') this.occupancy.delete(keys.zone);
  }

  /** Batches of one camera are processed in order; cameras run independently. */
  consume(batch: DetectionBatch): Promise<void> {
    return this.chain.run(batch.cameraId, () => this.consumeNow(batch));
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
    const changed = occupancy.filter((o) => this.occupancy.get(o.zoneId) !== o.count);
    if (changed.length === 0) return;
    for (const o of changed) this.occupancy.set(o.zoneId, o.count);
    await this.repo.writeOccupancy(cameraId, changed, this.clock.nowIso());
  }

  private async record(events: ZoneEngineEvent[]): Promise<void> {
    if (events.length === 0) return;
    const severities = new Map<string, string>();
    for (const list of this.defs.values()) for (const z of list) severities.set(z.id, z.severity);
    const rows: Array<ZoneEventEntity & { eventType: ZoneEngineEvent['type'] }> = [];
    for (const e of events) {
      const id = prefixedId('zev_');
      const evidence =
        e.type === 'enter' || e.type.startsWith('cross') ? await this.evidence.capture(e.cameraId, id) : null;
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
    // One unit for the batch's zone events and their kernel events (published on commit).
    await this.repo.insertEvents(rows, async () => {
      for (const r of rows) {
        await this.events.emit({
          type: `zone_${r.eventType}`,
          severity: (severities.get(r.zoneId) ?? 'info') as Severity,
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

  private async zonesOf(cameraId: string): Promise<ZoneRule[]> {
    let defs = this.defs.get(cameraId);
    if (!defs) {
      const generation = this.defsGeneration;
      defs = (await this.repo.forCamera(cameraId, true)).map(toDef);
      if (generation === this.defsGeneration) this.defs.set(cameraId, defs);
    }
    return defs;
  }

  /** A deleted camera: its engine state and cached zones, then its rows. */
  private async forgetCamera(cameraId: string): Promise<void> {
    this.defsGeneration++;
    this.defs.delete(cameraId);
    this.engine.forgetCamera(cameraId);
    await this.repo.deleteCamera(cameraId);
  }
}
