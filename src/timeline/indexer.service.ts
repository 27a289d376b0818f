import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { prefixedId } from '../common/ids';
import { Loops } from '../common/loops';
import { HeldarConfig } from '../config/heldar-config';
import { EventBus } from '../events/event-bus';
import { EventsService } from '../events/events.service';
import { MediaService } from '../media/media.service';
import { type FileEntry, StorageAdapter } from '../media/storage.adapter';
import { RecorderService } from '../recorder/recorder.service';
import { isSegmentClosed, parseSegmentName, segmentTimes } from './timeline-logic';
import { TimelineRepository } from './timeline.repository';

/** A hole longer than this between two segments is a recorded gap. */
export const GAP_THRESHOLD_MS = 3000;
/** A file that cannot be probed this many times is left alone (logged once). */
/** A finished file this small that cannot be probed holds only an MP4 header (no fragment). */
const EMPTY_SEGMENT_MAX_BYTES = 4096;
const MAX_PROBE_FAILURES = 3;

/**
 * Turns recording files into `segments` rows: scans each camera's directory, probes every
 * finished file, derives times from the media, clamps overlaps, records gaps with their causes,
 * and repairs rows whose file grew after indexing.
 */
@Injectable()
export class IndexerService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Indexer');
  /** cameraId → (relative path → indexed size). */
  private readonly indexed = new Map<string, Map<string, number>>();
  private readonly probeFailures = new Map<string, number>();
  private readonly scans = new Map<string, Promise<void>>();
  private subscription?: Subscription;
  /** Index lag samples (file closed → row committed), for the recorder benchmark. */
  readonly lagSamplesMs: number[] = [];

  constructor(
    private readonly repo: TimelineRepository,
    private readonly cameras: CamerasService,
    private readonly recorder: RecorderService,
    private readonly media: MediaService,
    private readonly storage: StorageAdapter,
    private readonly events: EventsService,
    private readonly bus: EventBus,
    private readonly loops: Loops,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const cleared = await this.repo.clearReadLocks();
    if (cleared > 0) this.logger.log(`cleared ${cleared} stale segment read-lock(s)`);
    this.subscription = this.bus.events$.subscribe((e) => {
      if (e.eventType === 'camera_deleted' && e.cameraId) {
        this.indexed.delete(e.cameraId);
        void this.repo
          .deleteCamera(e.cameraId)
          .catch((err: unknown) =>
            this.logger.error({ err, cameraId: e.cameraId }, 'segment cleanup failed'),
          );
      }
    });
    this.loops.start('indexer', this.config.indexerIntervalS * 1000, () => this.scanAll());
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }

  /** True when the indexer will never index this file (empty, or it gave up probing it). */
  gaveUpOn(rel: string, size: number): boolean {
    return size === 0 || (this.probeFailures.get(rel) ?? 0) >= MAX_PROBE_FAILURES;
  }

  /** One pass over every camera's directory. */
  async scanAll(): Promise<void> {
    for (const cameraId of await this.cameras.getAllIds()) {
      try {
        await this.scanCamera(cameraId);
      } catch (err) {
        this.logger.error({ err, cameraId }, 'indexing failed');
      }
    }
  }

  /** Index one camera's directory; scans of the same camera never run concurrently. */
  async scanCamera(cameraId: string): Promise<void> {
    const prev = this.scans.get(cameraId) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.scanCameraNow(cameraId));
    this.scans.set(cameraId, next);
    try {
      await next;
    } finally {
      if (this.scans.get(cameraId) === next) this.scans.delete(cameraId);
    }
  }

  private async scanCameraNow(cameraId: string): Promise<void> {
    const dir = join(this.config.recordingsDirAbs, cameraId);
    const files = (await this.storage.listFiles(dir))
      .filter((f) => parseSegmentName(f.name) !== null)
      .sort((a, b) => a.name.localeCompare(b.name));
    if (files.length === 0) return;
    const target = await this.cameras.getRecordTarget(cameraId);
    if (!target) return;
    let known = this.indexed.get(cameraId);
    if (!known) {
      known = await this.repo.indexedFiles(cameraId);
      this.indexed.set(cameraId, known);
    }
    const nowMs = this.clock.nowMs();
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      const rel = `${cameraId}/${f.name}`;
      if (known.get(rel) === f.size) continue;
      const closed = isSegmentClosed({
        hasLaterSibling: i < files.length - 1,
        mtimeMs: f.mtimeMs,
        nowMs,
        segmentSeconds: target.segmentSeconds,
      });
      if (!closed) continue;
      if (f.size === 0) {
        await this.discardEmpty(cameraId, rel, join(dir, f.name));
        continue;
      }
      if ((this.probeFailures.get(rel) ?? 0) >= MAX_PROBE_FAILURES) continue;
      await this.indexFile(cameraId, rel, join(dir, f.name), f, known);
    }
  }

  private async discardEmpty(cameraId: string, rel: string, abs: string): Promise<void> {
    if (await this.storage.remove(abs))
      this.logger.log({ cameraId, file: rel }, 'removed a segment file without media');
    this.probeFailures.delete(rel);
  }

  private async indexFile(
    cameraId: string,
    rel: string,
    abs: string,
    f: FileEntry,
    known: Map<string, number>,
  ): Promise<void> {
    const probe = await this.media.probeFile(abs);
    if (!probe && f.size < EMPTY_SEGMENT_MAX_BYTES) {
      // Opened by ffmpeg but never given media (it was stopped or cut at a segment boundary):
      // only an MP4 header, nothing to play, nothing lost by removing it.
      await this.discardEmpty(cameraId, rel, abs);
      return;
    }
    if (!probe) {
      const n = (this.probeFailures.get(rel) ?? 0) + 1;
      this.probeFailures.set(rel, n);
      if (n >= MAX_PROBE_FAILURES)
        this.logger.warn({ cameraId, file: rel }, 'file cannot be probed; skipping it');
      return;
    }
    this.probeFailures.delete(rel);
    const { startMs, endMs } = segmentTimes(f.mtimeMs, probe.durationS);
    const startIso = new Date(startMs).toISOString();
    const endIso = new Date(endMs).toISOString();

    if (known.has(rel)) {
      // Indexed while still growing (or rewritten): repair size, end and duration.
      await this.repo.repairSegment(rel, { sizeBytes: f.size, endTime: endIso, durationS: probe.durationS });
      known.set(rel, f.size);
      return;
    }

    const prevEnd = await this.repo.previousEnd(cameraId, startIso);
    const gapMs = prevEnd ? startMs - Date.parse(prevEnd) : 0;
    const cause =
      gapMs > GAP_THRESHOLD_MS
        ? await this.recorder.explainGap(cameraId, Date.parse(prevEnd!), startMs)
        : null;
    const now = this.clock.nowIso();
    await this.repo.transaction(async () => {
      if (prevEnd && gapMs < 0) await this.repo.clampOverlaps(cameraId, startIso);
      await this.repo.insertSegment({
        id: prefixedId('seg_'),
        cameraId,
        path: rel,
        startTime: startIso,
        endTime: endIso,
        durationS: probe.durationS,
        codec: probe.codec,
        width: probe.width,
        height: probe.height,
        fps: probe.fps,
        sizeBytes: f.size,
        container: 'mp4',
        locked: 0,
        evidenceLocked: false,
        incidentId: null,
        createdAt: now,
      });
      if (cause && prevEnd) {
        const gapSeconds = Math.round(gapMs / 100) / 10;
        const inserted = await this.repo.insertGap({
          id: prefixedId('gap_'),
          cameraId,
          gapStart: prevEnd,
          gapEnd: startIso,
          gapSeconds,
          cause,
          fillState: 'pending',
          createdAt: now,
        });
        if (inserted) {
          await this.events.emit({
            type: 'recording_gap',
            severity: 'warning',
            cameraId,
            payload: { gap_seconds: gapSeconds, prev_end: prevEnd, next_start: startIso, cause },
          });
        }
      }
    });
    known.set(rel, f.size);
    this.lagSamplesMs.push(Math.max(0, this.clock.nowMs() - f.mtimeMs));
    if (this.lagSamplesMs.length > 10_000) this.lagSamplesMs.splice(0, 5_000);
    await this.recorder.onSegmentIndexed(cameraId, {
      endIso,
      sizeBytes: f.size,
      durationS: probe.durationS,
      fps: probe.fps,
    });
  }
}
