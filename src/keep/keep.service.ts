import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { CameraDeletionHooks } from '../cameras/camera-deletion-hooks';
import { CamerasService } from '../cameras/cameras.service';
import { isEventMode } from '../cameras/record-mode';
import { Clock } from '../common/clock';
import { BadRequestError } from '../common/errors';
import { prefixedId } from '../common/ids';
import { Loops } from '../common/loops';
import { EventBus, type KernelEvent, type Unsubscribe } from '../events/event-bus';
import { isKernelEventType, reservedEventType } from '../events/event-types';
import { EventsService } from '../events/events.service';
import { SegmentPruner } from '../timeline/segment-pruner.service';
import type { KeepWindowEntity } from './entities/keep-window.entity';
import { decisionHorizonMs, extendWindow, keptBy, triggerWindow, type Window } from './keep-logic';
import { KeepRepository } from './keep.repository';
import { KeyedSerialQueue } from '../common/validation';

/** Zone events that are triggers (static notices are not). */
const ZONE_TRIGGERS = new Set(['zone_enter', 'zone_exit', 'zone_dwell', 'zone_cross_ab', 'zone_cross_ba']);
/** Allowance for a trigger reported late (a worker's detection, the network) before footage it
 * could reach is deleted. */
export const TRIGGER_MARGIN_S = 15;
/** How often event cameras' segments are decided, and ended windows announced. */
export const KEEP_CHECK_MS = 5_000;
const PAGE = 500;
/** A camera seen in an event mode for the first time: its pending segments of the last day. */
const FIRST_LOOK_MS = 86_400_000;
/** How far before the decision cursor pending rows are still looked for (late-indexed segments). */
export const LATE_INDEX_LOOKBACK_MS = 600_000;

const iso = (ms: number) => new Date(ms).toISOString();

export interface TriggerResult {
  camera_id: string;
  mode: string;
  /** The keep window the trigger opened or extended; null when the camera does not record on events. */
  window: { id: string; start: string; end: string; reason: string; trigger_count: number } | null;
}

/**
 * Event recording: triggers (zone events, workers' events, the trigger API) open or extend keep
 * windows; every few seconds each event camera's segments old enough that no trigger can reach
 * them are kept (`kept_by: event:<reason>`) or deleted (a `no_event` gap). The recorder records
 * event cameras continuously into the normal store, so the pre-roll is real footage.
 */
@Injectable()
export class KeepService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventRecording');
  private off?: Unsubscribe;
  /** Per-camera serialisation of window writes. */
  private readonly queues = new KeyedSerialQueue();
  /** Open windows' ends per camera, to announce recording_stopped when they pass. */
  private readonly openUntil = new Map<string, number>();

  constructor(
    private readonly repo: KeepRepository,
    private readonly cameras: CamerasService,
    private readonly pruner: SegmentPruner,
    private readonly events: EventsService,
    private readonly audit: AuditService,
    private readonly bus: EventBus,
    private readonly deletionHooks: CameraDeletionHooks,
    private readonly loops: Loops,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    // Zone events and any worker type may open a keep window.
    this.off = this.bus.onAny((e) => this.onEvent(e), 'keep');
    this.deletionHooks.add('keep', async (cameraId) => {
      this.openUntil.delete(cameraId);
      await this.repo.deleteCamera(cameraId);
    });
    this.loops.start('keep_decide', KEEP_CHECK_MS, () => this.decideAll());
  }

  async onApplicationShutdown(): Promise<void> {
    this.off?.();
    await this.loops.stop('keep_decide');
    await this.queues.settled();
  }

  private onEvent(e: KernelEvent): void {
    if (!e.cameraId) return;
    const fromOutside = !isKernelEventType(e.eventType) && reservedEventType(e.eventType) === null;
    if (!ZONE_TRIGGERS.has(e.eventType) && !fromOutside) return;
    const at = Date.parse(e.timestamp);
    const nowMs = this.clock.nowMs();
    const cameraId = e.cameraId;
    void this.trigger(cameraId, Number.isFinite(at) ? Math.min(at, nowMs) : nowMs, e.eventType).catch(
      (err: unknown) => this.logger.error({ err, cameraId }, 'trigger failed'),
    );
  }

  /** A trigger from the API (audited, and logged as a `recording_triggered` event). */
  async triggerByRequest(
    p: Principal,
    cameraId: string,
    input: { reason?: string; post_roll_seconds?: number },
  ): Promise<TriggerResult> {
    await this.cameras.assertVisible(p, cameraId, 'trigger its recording');
    const reason = input.reason?.trim() || 'api';
    const nowMs = this.clock.nowMs();
    const result = await this.trigger(cameraId, nowMs, reason, input.post_roll_seconds);
    await this.audit.record(p, 'record_trigger', 'camera', cameraId, {
      reason,
      mode: result.mode,
      window_end: result.window?.end ?? null,
    });
    await this.events.emit({
      type: 'recording_triggered',
      cameraId,
      payload: {
        reason,
        mode: result.mode,
        window_start: result.window?.start ?? null,
        window_end: result.window?.end ?? null,
      },
    });
    return result;
  }

  /** Open or extend the camera's keep window for a trigger at `atMs` (event modes only). */
  trigger(cameraId: string, atMs: number, reason: string, postRollS?: number): Promise<TriggerResult> {
    return this.queues.run(cameraId, () => this.applyTrigger(cameraId, atMs, reason, postRollS));
  }

  private async applyTrigger(
    cameraId: string,
    atMs: number,
    reason: string,
    postRollS?: number,
  ): Promise<TriggerResult> {
    const cam = await this.cameras.getPolicy(cameraId);
    if (!cam || !isEventMode(cam.recordMode))
      return { camera_id: cameraId, mode: cam?.recordMode ?? 'unknown', window: null };
    const asked = triggerWindow(atMs, cam.preRollSeconds, postRollS ?? cam.postRollSeconds);
    const now = this.clock.nowIso();
    const current = await this.repo.latestEndingAfter(cameraId, iso(asked.startMs));
    let row: KeepWindowEntity;
    const grown = current && extendWindow(toWindow(current), asked);
    if (current && grown) {
      row = {
        ...current,
        startTime: iso(grown.startMs),
        endTime: iso(grown.endMs),
        triggerCount: current.triggerCount + 1,
        updatedAt: now,
      };
      await this.repo.update(current.id, {
        startTime: row.startTime,
        endTime: row.endTime,
        triggerCount: row.triggerCount,
        updatedAt: now,
      });
    } else {
      row = {
        id: prefixedId('keep_'),
        cameraId,
        startTime: iso(asked.startMs),
        endTime: iso(asked.endMs),
        reason: reason.slice(0, 128),
        triggerCount: 1,
        createdAt: now,
        updatedAt: now,
      };
      await this.repo.insert(row);
    }
    const nowMs = this.clock.nowMs();
    const wasOpen = (this.openUntil.get(cameraId) ?? 0) > nowMs;
    const endMs = Date.parse(row.endTime);
    if (endMs > nowMs) {
      this.openUntil.set(cameraId, Math.max(endMs, this.openUntil.get(cameraId) ?? 0));
      if (!wasOpen)
        await this.events.emit({
          type: 'recording_started',
          cameraId,
          payload: {
            reason: 'trigger',
            trigger: row.reason,
            window_start: row.startTime,
            window_end: row.endTime,
          },
        });
    }
    return {
      camera_id: cameraId,
      mode: cam.recordMode,
      window: {
        id: row.id,
        start: row.startTime,
        end: row.endTime,
        reason: row.reason,
        trigger_count: row.triggerCount,
      },
    };
  }

  /** Windows of a camera overlapping `[from, to]` (the timeline's keep windows): `to` defaults to
   * now, `from` to 24 h before `to`, `limit` to 500. */
  async windows(
    p: Principal,
    cameraId: string,
    q: { from?: string; to?: string; limit?: number },
  ): Promise<KeepWindowEntity[]> {
    const to = q.to ?? new Date(this.clock.nowMs()).toISOString();
    const from = q.from ?? new Date(Date.parse(to) - 86_400_000).toISOString();
    if (Date.parse(from) > Date.parse(to))
      throw new BadRequestError('from must not be after to', 'VALIDATION_FAILED');
    await this.cameras.assertVisible(p, cameraId, 'read its keep windows');
    return this.repo.overlapping(
      cameraId,
      new Date(from).toISOString(),
      new Date(to).toISOString(),
      q.limit ?? 500,
    );
  }

  /** One pass: announce ended windows, then decide every event camera's settled segments. */
  async decideAll(): Promise<void> {
    const nowMs = this.clock.nowMs();
    for (const [cameraId, endMs] of this.openUntil)
      if (endMs <= nowMs) {
        this.openUntil.delete(cameraId);
        await this.events.emit({
          type: 'recording_stopped',
          cameraId,
          payload: { reason: 'window_end', window_end: iso(endMs) },
        });
      }
    // Enabled or not: footage recorded before a camera was disabled is still decided.
    for (const cam of (await this.cameras.listPolicies()).filter((c) => isEventMode(c.recordMode))) {
      try {
        await this.decideCamera(cam, nowMs);
      } catch (err) {
        this.logger.error({ err, cameraId: cam.id }, 'keep decision failed');
      }
    }
  }

  /** Keep or delete the camera's pending segments that ended before its decision horizon. */
  async decideCamera(
    cam: { id: string; preRollSeconds: number; segmentSeconds: number },
    nowMs: number,
  ): Promise<{ kept: number; deleted: number }> {
    const horizon = iso(nowMs - decisionHorizonMs(cam.preRollSeconds, cam.segmentSeconds, TRIGGER_MARGIN_S));
    let cursor = (await this.repo.cursor(cam.id)) ?? iso(nowMs - FIRST_LOOK_MS);
    // Read from a little before the cursor: a segment indexed late (a reconciliation pass, a
    // backlog) may start before segments already decided; rows decided before are not pending.
    let after = iso(Date.parse(cursor) - LATE_INDEX_LOOKBACK_MS);
    const total = { kept: 0, deleted: 0 };
    for (;;) {
      const page = await this.pruner.pendingSegments(cam.id, after, horizon, PAGE);
      if (page.length === 0) break;
      const windows = await this.repo.overlapping(
        cam.id,
        page[0].startTime,
        page[page.length - 1].endTime,
        10_000,
      );
      const spans = page.map((s) => ({ startMs: Date.parse(s.startTime), endMs: Date.parse(s.endTime) }));
      const which = keptBy(spans, windows.map(toWindow));
      const keep: Array<{ id: string; keptBy: string }> = [];
      const drop: string[] = [];
      page.forEach((s, i) =>
        which[i] >= 0
          ? keep.push({ id: s.id, keptBy: `event:${windows[which[i]].reason}` })
          : drop.push(s.id),
      );
      const res = await this.pruner.decideSegments(cam.id, keep, drop);
      total.kept += keep.length;
      total.deleted += res.deleted;
      after = page[page.length - 1].startTime;
      if (after > cursor) {
        cursor = after;
        await this.repo.setCursor(cam.id, cursor);
      }
      if (page.length < PAGE) break;
    }
    return total;
  }
}

function toWindow(w: { startTime: string; endTime: string }): Window {
  return { startMs: Date.parse(w.startTime), endMs: Date.parse(w.endTime) };
}
