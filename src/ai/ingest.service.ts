import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { assertCameraScope, type Principal } from '../auth/principal';
import { CameraDeletionHooks } from '../cameras/camera-deletion-hooks';
import { CamerasService } from '../cameras/cameras.service';
import { SITES_CACHE } from '../cameras/sites.service';
import { Clock } from '../common/clock';
import { Telemetry } from '../common/telemetry';
import { NotFoundError } from '../common/errors';
import { prefixedId } from '../common/ids';
import { mapDriverError } from '../common/driver-errors';
import { CacheInvalidation } from '../events/cache-invalidation';
import { EventBus, type Unsubscribe } from '../events/event-bus';
import { EventsService } from '../events/events.service';
import { AiRepository } from './ai.repository';
import type { DetectionEntity } from './entities/detection.entity';
import type { DetectionBatch } from './detection-consumer';
import { FanoutService, type PendingFanOut } from './fanout.service';
import { parseIngest, stampAttributes } from './ingest-parse';

const CAMERA_CACHE_MS = 10_000;

export interface IngestResult {
  detections_ingested: number;
  duplicate: boolean;
}

/**
 * `POST /api/v1/ai/events`: validate, stamp provenance, write the outbox row, the detections and
 * the transactional consumers' fan-out in one group-commit unit (a replayed frame writes nothing),
 * then run the other consumers and record the worker event.
 */
@Injectable()
export class IngestService implements OnApplicationBootstrap {
  private readonly cameras = new Map<string, { siteId: string | null; at: number }>();
  private off?: Unsubscribe;
  private offSites?: Unsubscribe;

  constructor(
    private readonly repo: AiRepository,
    private readonly fanout: FanoutService,
    private readonly cameraService: CamerasService,
    private readonly events: EventsService,
    private readonly bus: EventBus,
    private readonly deletionHooks: CameraDeletionHooks,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
    private readonly caches: CacheInvalidation,
  ) {}

  onApplicationBootstrap(): void {
    this.off = this.bus.on(
      ['camera_deleted', 'camera_updated'],
      (e) => {
        if (e.cameraId) this.cameras.delete(e.cameraId);
      },
      'ingest',
      { remote: true }, // a cache: changed through any node
    );
    // A deleted site leaves its cameras without one (no camera event): read them again.
    this.offSites = this.caches.on(SITES_CACHE, () => this.cameras.clear(), 'ingest');
    this.deletionHooks.add('detections', async (cameraId) => {
      await this.repo.deleteCamera(cameraId);
    });
  }

  onApplicationShutdown(): void {
    this.off?.();
    this.offSites?.();
  }

  private async site(cameraId: string): Promise<string | null> {
    const hit = this.cameras.get(cameraId);
    const now = this.clock.nowMs();
    if (hit && now - hit.at < CAMERA_CACHE_MS) return hit.siteId;
    const cam = await this.cameraService.lookup(cameraId);
    if (!cam) throw new NotFoundError(`camera \`${cameraId}\` not found`, 'CAMERA_NOT_FOUND');
    this.cameras.set(cameraId, { siteId: cam.siteId, at: now });
    return cam.siteId;
  }

  async ingest(principal: Principal, body: unknown): Promise<IngestResult> {
    const done = this.telemetry.ingestDuration.startTimer();
    let result: IngestResult;
    try {
      result = await this.ingestBatch(principal, body);
    } catch (err) {
      this.telemetry.ingestBatches.inc({ outcome: 'rejected' });
      throw err;
    }
    done();
    this.telemetry.ingestBatches.inc({ outcome: result.duplicate ? 'duplicate' : 'stored' });
    this.telemetry.ingestDetections.inc(result.detections_ingested);
    return result;
  }

  private async ingestBatch(principal: Principal, body: unknown): Promise<IngestResult> {
    const nowIso = this.clock.nowIso();
    const p = parseIngest(body, nowIso);
    assertCameraScope(principal, p.cameraId, 'ingest for it');
    const siteId = await this.site(p.cameraId);
    const frameKey = p.frameId === null ? null : `w:${p.frameId}`;
    const prov = { key: principal.id, task: p.taskType };
    const rows: DetectionEntity[] = p.detections.map((d) => ({
      id: prefixedId('det_'), // det_ + 32 hex, time-ordered
      cameraId: p.cameraId,
      taskType: p.taskType,
      timestamp: p.timestamp,
      label: d.label,
      confidence: d.confidence,
      bbox: d.bbox,
      trackId: d.trackId,
      attributes: stampAttributes(d.attributes, prov),
      frameId: frameKey,
      createdAt: nowIso,
    }));
    const batch: DetectionBatch = {
      cameraId: p.cameraId,
      siteId,
      taskType: p.taskType,
      frameKey,
      timestamp: p.timestamp,
      detections: rows.map((r) => ({
        id: r.id,
        label: r.label,
        confidence: r.confidence,
        bbox: r.bbox,
        trackId: r.trackId,
        attributes: r.attributes,
      })),
    };
    let pending: PendingFanOut;
    try {
      // The rows and the transactional half of the fan-out: one group-commit unit, one commit.
      ({ then: pending } = await this.repo.ingest(
        {
          topic: 'detections',
          cameraId: p.cameraId,
          siteId,
          frameId: frameKey,
          taskType: p.taskType,
          detectionCount: rows.length,
          provenance: 'worker',
          producedBy: `${principal.kind}:${principal.id}`,
          batchTimestamp: p.timestamp,
          createdAt: nowIso,
          fannedOutAt: null,
        },
        rows,
        (seq) => this.fanout.fanOutInUnit(batch, seq),
      ));
    } catch (err) {
      // A frame seen before (or two clients racing with the same frame): a duplicate.
      if (frameKey !== null && mapDriverError(err)?.code === 'ALREADY_EXISTS')
        return { detections_ingested: 0, duplicate: true };
      throw err;
    }
    await this.fanout.fanOutAfterCommit(pending);
    if (p.event) {
      await this.events.emitExternal({
        type: p.event.eventType,
        severity: p.event.severity,
        cameraId: p.cameraId,
        siteId,
        timestamp: p.timestamp,
        payload: { ...p.event.payload, task_type: p.taskType, frame_id: p.frameId },
      });
    }
    return { detections_ingested: rows.length, duplicate: false };
  }
}
