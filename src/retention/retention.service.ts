import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { Loops } from '../common/loops';
import { RowRetention, type TtlClass } from '../common/row-retention';
import { HeldarConfig } from '../config/heldar-config';
import { EventsService } from '../events/events.service';
import { ExportsService } from '../exports/exports.service';
import type { Severity } from '../events/event-types';
import { StorageAdapter } from '../media/storage.adapter';
import { SettingsService } from '../settings/settings.service';
import { type PruneResult, SegmentPruner, type SegmentUsageRow } from '../timeline/segment-pruner.service';
import { AuditService } from '../audit/audit.service';
import { canSeeCamera, type Principal } from '../auth/principal';
import { isEventMode } from '../cameras/record-mode';
import { BadRequestError } from '../common/errors';
import { SnapshotsService } from '../snapshots/snapshots.service';
import type { RetentionDto } from './dto/retention.dto';
import {
  floorBatchSize,
  forecast,
  keptWriteRate,
  pickClipsForFloor,
  pickEvictionCamera,
  segmentsFor,
} from './retention-logic';

export const GIB = 1024 ** 3;
const round = (x: number) => Math.round(x * 1000) / 1000;
const HOUR_MS = 3_600_000;
/** Segments deleted per step of the quota and cap loops (re-evaluating fairness in between). */
const BATCH = 20;
const AGE_BATCH = 500;
const MAX_FLOOR_ITERATIONS = 200;
const ORPHAN_MIN_AGE_MS = HOUR_MS;
/** The orphan reclaim lists every day folder of every camera: it runs on its own, this often. */
const ORPHAN_INTERVAL_MS = HOUR_MS;
export const SETTING_MAX_BYTES = 'recording_max_bytes';
export const SETTING_MIN_FREE_BYTES = 'recording_min_free_bytes';

export interface RetentionLimits {
  capBytes: number;
  capOverridden: boolean;
  floorBytes: number;
  floorOverridden: boolean;
}

interface StepTotals {
  deleted: number;
  bytes: number;
  cameras: Record<string, { deleted: number; bytes: number }>;
}

export interface SweepReport {
  started_at: string;
  finished_at: string;
  duration_ms: number;
  age: StepTotals;
  camera_quota: StepTotals;
  size_cap: StepTotals;
  free_floor: StepTotals;
  /** Exported clips the free-disk floor deleted before touching any recording. */
  free_floor_clips: { deleted: number; bytes: number };
  /** Rows removed per table by the row TTLs. */
  rows: Record<string, number>;
  orphans: { files: number; bytes: number } | null;
  /** `disk_pressure` reasons raised by this sweep. */
  pressure: string[];
  errors: string[];
}

const emptyTotals = (): StepTotals => ({ deleted: 0, bytes: 0, cameras: {} });

function add(t: StepTotals, r: PruneResult): void {
  t.deleted += r.deleted;
  t.bytes += r.bytes;
  for (const [cam, c] of r.byCamera) {
    const cur = t.cameras[cam] ?? { deleted: 0, bytes: 0 };
    cur.deleted += c.deleted;
    cur.bytes += c.bytes;
    t.cameras[cam] = cur;
  }
}

/** Take a deletion out of the in-memory usage figures (no re-query between batches). */
function consume(usage: SegmentUsageRow[], r: PruneResult): void {
  for (const u of usage) {
    const c = r.byCamera.get(u.cameraId);
    if (!c) continue;
    u.totalBytes -= c.bytes;
    u.deletableBytes = Math.max(0, u.deletableBytes - c.bytes);
    u.deletableCount = Math.max(0, u.deletableCount - c.deleted);
  }
}

/**
 * The retention sweep, in the reference's order: age per camera, per-camera quota, global cap by
 * fair share, free-disk floor with re-measurement, row TTLs. A sweep with nothing to delete reads
 * O(cameras) rows and touches no file. Orphan files (which needs every day folder listed) are
 * reclaimed by a pass of their own, hourly or on request. Never an evidence-locked or read-locked
 * segment. Sweeps and orphan passes never overlap: a request during one runs after it.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Retention');
  private running: Promise<SweepReport> | null = null;
  private last: SweepReport | null = null;

  constructor(
    private readonly segments: SegmentPruner,
    private readonly cameras: CamerasService,
    private readonly clips: ExportsService,
    private readonly rowRetention: RowRetention,
    private readonly settings: SettingsService,
    private readonly events: EventsService,
    private readonly storage: StorageAdapter,
    private readonly loops: Loops,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly snapshots: SnapshotsService,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.loops.start('retention', this.config.retentionIntervalS * 1000, async () => {
      await this.sweep();
    });
    this.loops.start('retention_orphans', ORPHAN_INTERVAL_MS, async () => {
      await this.sweep({ orphans: true, only: true });
    });
  }

  get lastSweep(): SweepReport | null {
    return this.last;
  }

  /** Effective limits: the settings override, else the environment. */
  async limits(): Promise<RetentionLimits> {
    const cap = await this.settings.tryGet<number>(SETTING_MAX_BYTES);
    const floor = await this.settings.tryGet<number>(SETTING_MIN_FREE_BYTES);
    return {
      capBytes: typeof cap === 'number' ? cap : Math.round(this.config.maxRecordingsGb * GIB),
      capOverridden: typeof cap === 'number',
      floorBytes: typeof floor === 'number' ? floor : Math.round(this.config.minFreeDiskGb * GIB),
      floorOverridden: typeof floor === 'number',
    };
  }

  /** Run a sweep now; one already running finishes first (sweeps never overlap). `orphans` adds
   * the orphan reclaim; `only` runs nothing else (the hourly orphan pass). */
  sweep(opts: { orphans?: boolean; only?: boolean } = {}): Promise<SweepReport> {
    const prev = this.running ?? Promise.resolve(null);
    const next = prev
      .catch(() => null)
      .then(() => this.sweepNow(opts.orphans ?? false, (opts.orphans && opts.only) ?? false));
    this.running = next;
    void next
      .finally(() => {
        if (this.running === next) this.running = null;
      })
      .catch(() => undefined);
    return next;
  }

  private async sweepNow(orphans: boolean, orphansOnly: boolean): Promise<SweepReport> {
    const startedMs = this.clock.nowMs();
    const report: SweepReport = {
      started_at: new Date(startedMs).toISOString(),
      finished_at: '',
      duration_ms: 0,
      age: emptyTotals(),
      camera_quota: emptyTotals(),
      size_cap: emptyTotals(),
      free_floor: emptyTotals(),
      free_floor_clips: { deleted: 0, bytes: 0 },
      rows: {},
      orphans: null,
      pressure: [],
      errors: [],
    };
    const steps: Array<[string, () => Promise<void>]> = [];
    if (!orphansOnly) {
      const limits = await this.limits();
      steps.push(
        ['age', () => this.byAge(report)],
        ['camera_quota', () => this.byQuota(report)],
        ['size_cap', () => this.byCap(report, limits.capBytes)],
        ['free_floor', () => this.byFloor(report, limits.floorBytes)],
        ['rows', () => this.rowTtls(report)],
      );
    }
    if (orphans) steps.push(['orphans', () => this.orphans(report)]);
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (err) {
        // One failing step never stops the others (a full disk must still be relieved).
        this.logger.error({ err, step: name }, `retention step ${name} failed`);
        report.errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const endMs = this.clock.nowMs();
    report.finished_at = new Date(endMs).toISOString();
    report.duration_ms = endMs - startedMs;
    if (!orphansOnly) this.last = report;
    return report;
  }

  private async pressure(
    report: SweepReport,
    severity: Severity,
    reason: string,
    payload: Record<string, unknown>,
  ): Promise<void> {
    report.pressure.push(reason);
    this.logger.warn({ reason, ...payload }, `disk pressure: ${reason}`);
    await this.events.emit({ type: 'disk_pressure', severity, payload: { reason, ...payload } });
  }

  private async deleted(reason: string, t: StepTotals): Promise<void> {
    if (t.deleted === 0) return;
    await this.events.emit({
      type: 'retention_delete',
      severity: 'info',
      payload: { reason, deleted: t.deleted, bytes: t.bytes, cameras: t.cameras },
    });
  }

  /** 1. Segments that ended more than the camera's `retention_hours` ago. A camera whose oldest
   * segment starts after its horizon has nothing to lose: one index seek, no scan. */
  private async byAge(report: SweepReport): Promise<void> {
    const nowMs = this.clock.nowMs();
    for (const cam of await this.cameras.retentionPolicies()) {
      const cutoff = new Date(nowMs - Math.max(cam.retentionHours, 1) * HOUR_MS).toISOString();
      const oldest = await this.segments.oldestStart(cam.id);
      if (oldest === null || oldest >= cutoff) continue;
      for (;;) {
        const r = await this.segments.deleteOldest(cam.id, AGE_BATCH, cutoff);
        add(report.age, r);
        if (r.deleted < AGE_BATCH) break;
      }
    }
    await this.deleted('age', report.age);
  }

  /** 2. Cameras over their own `storage_quota_bytes` lose their oldest footage (per-node storage:
   * the quota applies to what each node's disk holds of the camera). */
  private async byQuota(report: SweepReport): Promise<void> {
    const quotas = new Map(
      (await this.cameras.retentionPolicies())
        .filter((c) => c.quotaBytes !== null)
        .map((c) => [c.id, c.quotaBytes!]),
    );
    if (quotas.size === 0) return;
    let usage = await this.segments.usage();
    // Per-node storage: every node's bytes are in `usage()`; a camera over its quota there may be
    // over on this node's disk, which is what this node's retention decides on (and deletes from).
    if (this.segments.perNode) {
      const over = usage.filter((u) => u.totalBytes > (quotas.get(u.cameraId) ?? Infinity));
      if (over.length === 0) return;
      usage = await this.segments.usageHere(over.map((u) => u.cameraId));
    }
    for (const u of usage) {
      const quota = quotas.get(u.cameraId);
      if (quota === undefined || u.totalBytes <= quota) continue;
      const budget = quota - u.protectedBytes;
      if (budget <= 0) {
        await this.pressure(report, 'warning', 'camera_quota', {
          camera_id: u.cameraId,
          protected_bytes: u.protectedBytes,
          quota_bytes: quota,
        });
        continue; // evidence alone fills the quota: keep what is being recorded now
      }
      let deletable = u.deletableBytes;
      const avg = u.deletableBytes / Math.max(1, u.deletableCount);
      while (deletable > budget) {
        const r = await this.segments.deleteOldest(u.cameraId, segmentsFor(deletable - budget, avg, BATCH));
        if (r.deleted === 0) break;
        add(report.camera_quota, r);
        deletable -= r.bytes;
      }
    }
    await this.deleted('camera_quota', report.camera_quota);
  }

  /** 3. All recordings above the cap: the camera furthest over its fair share goes first. */
  private async byCap(report: SweepReport, capBytes: number): Promise<void> {
    if (capBytes <= 0) return;
    let usage = await this.segments.usage();
    if (usage.reduce((s, u) => s + u.totalBytes, 0) <= capBytes) return;
    // Per-node storage: the cap is on this node's recordings (every node's sum is above it first).
    if (this.segments.perNode) usage = await this.segments.usageHere();
    const total = usage.reduce((s, u) => s + u.totalBytes, 0);
    if (total <= capBytes) return;
    const locked = usage.reduce((s, u) => s + u.protectedBytes, 0);
    const budget = capBytes - locked;
    if (budget <= 0) {
      await this.pressure(report, 'warning', 'locked_exceeds_cap', {
        protected_bytes: locked,
        max_bytes: capBytes,
      });
      return;
    }
    for (;;) {
      const pick = pickEvictionCamera(usage, budget);
      if (pick === null) break;
      const u = usage.find((x) => x.cameraId === pick.cameraId)!;
      const n = segmentsFor(pick.overBytes, u.deletableBytes / Math.max(1, u.deletableCount), BATCH);
      const r = await this.segments.deleteOldest(pick.cameraId, n);
      if (r.deleted === 0) {
        u.deletableBytes = 0; // locked meanwhile: leave it out of this sweep and go on with the others
        continue;
      }
      add(report.size_cap, r);
      consume(usage, r);
    }
    if (report.size_cap.deleted > 0) {
      await this.pressure(report, 'warning', 'size_cap', {
        deleted: report.size_cap.deleted,
        bytes: report.size_cap.bytes,
        max_bytes: capBytes,
        cameras: report.size_cap.cameras,
      });
    }
  }

  /**
   * 4. Free space on the recordings volume below the floor: delete fair-share batches sized to
   * the deficit, re-measuring after each; stop with a critical event when deleting does not give
   * space back (files held open or hard-linked elsewhere) or nothing deletable is left.
   */
  private async byFloor(report: SweepReport, floorBytes: number): Promise<void> {
    if (floorBytes <= 0) return;
    await this.storage.ensureDir(this.config.recordingsDirAbs);
    let stats = await this.storage.diskStats(this.config.recordingsDirAbs);
    if (!stats) {
      await this.pressure(report, 'warning', 'disk_stats_unavailable', { min_free_bytes: floorBytes });
      return;
    }
    if (stats.freeBytes >= floorBytes) return;
    if (floorBytes >= stats.totalBytes) {
      await this.pressure(report, 'critical', 'floor_unsatisfiable', {
        min_free_bytes: floorBytes,
        disk_total_bytes: stats.totalBytes,
      });
      return;
    }
    stats = await this.floorClips(report, floorBytes, stats);
    if (report.free_floor_clips.deleted > 0) {
      await this.pressure(report, 'warning', 'free_floor_clips', {
        deleted: report.free_floor_clips.deleted,
        bytes: report.free_floor_clips.bytes,
        min_free_bytes: floorBytes,
      });
    }
    if (stats.freeBytes >= floorBytes) return;
    // This volume's footage (per-node storage: this node's rows; another node's frees nothing here).
    const usage = await this.segments.usageHere();
    for (let i = 0; i < MAX_FLOOR_ITERATIONS && stats.freeBytes < floorBytes; i++) {
      const deficit = floorBytes - stats.freeBytes;
      const deletable = usage.reduce((s, u) => s + u.deletableBytes, 0);
      const count = usage.reduce((s, u) => s + u.deletableCount, 0);
      if (deletable <= 0 || count <= 0) {
        await this.pressure(report, 'critical', 'floor_blocked_by_protected_share', {
          min_free_bytes: floorBytes,
          free_bytes: stats.freeBytes,
          deleted: report.free_floor.deleted,
        });
        break;
      }
      const cam =
        pickEvictionCamera(usage, deletable - deficit)?.cameraId ??
        usage.reduce((a, b) => (b.deletableBytes > a.deletableBytes ? b : a)).cameraId;
      const r = await this.segments.deleteOldest(cam, floorBatchSize(deficit, deletable / count));
      if (r.deleted === 0) {
        usage.find((x) => x.cameraId === cam)!.deletableBytes = 0;
        continue;
      }
      add(report.free_floor, r);
      consume(usage, r);
      const before = stats.freeBytes;
      stats = (await this.storage.diskStats(this.config.recordingsDirAbs)) ?? stats;
      // Half of what was deleted must come back; otherwise the files live on (hard links, open
      // handles) and deleting more footage would destroy it for nothing.
      if (stats.freeBytes - before < r.bytes / 2) {
        await this.pressure(report, 'critical', 'prune_not_recovering_space', {
          min_free_bytes: floorBytes,
          free_bytes: stats.freeBytes,
          deleted: report.free_floor.deleted,
          bytes: report.free_floor.bytes,
        });
        break;
      }
    }
    if (report.free_floor.deleted > 0) {
      await this.pressure(report, 'critical', 'free_floor', {
        deleted: report.free_floor.deleted,
        bytes: report.free_floor.bytes,
        min_free_bytes: floorBytes,
        cameras: report.free_floor.cameras,
      });
    }
  }

  /**
   * The floor's first resort: exported clips on the recordings volume, oldest first, never an
   * evidence-locked one (a clip is a copy of footage; the footage goes only when clips are not
   * enough). Returns the volume re-measured.
   */
  private async floorClips(
    report: SweepReport,
    floorBytes: number,
    stats: { totalBytes: number; freeBytes: number },
  ): Promise<{ totalBytes: number; freeBytes: number }> {
    await this.storage.ensureDir(this.config.clipsDirAbs);
    const [clipsDev, recDev] = await Promise.all([
      this.storage.deviceOf(this.config.clipsDirAbs),
      this.storage.deviceOf(this.config.recordingsDirAbs),
    ]);
    if (clipsDev === null || clipsDev !== recDev) return stats; // deleting them frees nothing here
    const ids = pickClipsForFloor(await this.clips.prunableClips(), floorBytes - stats.freeBytes);
    if (ids.length === 0) return stats;
    const r = await this.clips.deleteClips(ids);
    report.free_floor_clips.deleted += r.deleted;
    report.free_floor_clips.bytes += r.bytes;
    return (await this.storage.diskStats(this.config.recordingsDirAbs)) ?? stats;
  }

  /** 5. Row TTLs, through the pruners the owning modules registered. */
  private async rowTtls(report: SweepReport): Promise<void> {
    const nowMs = this.clock.nowMs();
    const cutoffs: Record<TtlClass, string> = {
      detection: new Date(nowMs - this.config.detectionRetentionHours * HOUR_MS).toISOString(),
      audit: new Date(nowMs - this.config.auditRetentionDays * 24 * HOUR_MS).toISOString(),
      clip: new Date(nowMs - this.config.clipRetentionHours * HOUR_MS).toISOString(),
      snapshot: new Date(nowMs - this.config.snapshotRetentionHours * HOUR_MS).toISOString(),
      expired: new Date(nowMs).toISOString(),
    };
    for (const p of this.rowRetention.list()) {
      try {
        const n = await p.prune(cutoffs[p.ttl]);
        if (n > 0) report.rows[p.name] = n;
      } catch (err) {
        this.logger.error({ err, table: p.name }, `row retention of ${p.name} failed`);
        report.errors.push(`rows ${p.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** 6. Hourly on its own (or on request): recording files no segment row knows, older than an hour. */
  private async orphans(report: SweepReport): Promise<void> {
    const r = await this.segments.reclaimOrphans(ORPHAN_MIN_AGE_MS);
    report.orphans = r;
    if (r.files > 0) {
      await this.events.emit({
        type: 'recording_orphans',
        severity: 'warning',
        payload: { reclaimed: r.files, bytes: r.bytes },
      });
    }
  }

  /** Override the recordings cap and/or the free-disk floor (null clears an override); audited. */
  async updateLimits(
    p: Principal,
    dto: { max_recordings_gb?: number | null; min_free_disk_gb?: number | null },
  ): Promise<RetentionDto> {
    if (dto.max_recordings_gb === undefined && dto.min_free_disk_gb === undefined) {
      throw new BadRequestError('give max_recordings_gb and/or min_free_disk_gb', 'VALIDATION_FAILED');
    }
    if (typeof dto.min_free_disk_gb === 'number') {
      const disk = await this.disk();
      if (disk && dto.min_free_disk_gb * GIB >= disk.total_bytes) {
        throw new BadRequestError(
          `min_free_disk_gb (${dto.min_free_disk_gb}) is not below the size of the recordings volume (${round(disk.total_bytes / GIB)} GiB)`,
          'VALIDATION_FAILED',
        );
      }
    }
    const apply = async (key: string, gb: number | null | undefined) => {
      if (gb === undefined) return;
      if (gb === null) await this.settings.delete(key);
      else await this.settings.set(key, Math.round(gb * GIB));
    };
    await apply(SETTING_MAX_BYTES, dto.max_recordings_gb);
    await apply(SETTING_MIN_FREE_BYTES, dto.min_free_disk_gb);
    await this.audit.record(p, 'update_retention_limits', 'system', 'retention', {
      max_recordings_gb: dto.max_recordings_gb,
      min_free_disk_gb: dto.min_free_disk_gb,
    });
    return this.describe(p);
  }

  /** A sweep asked for through the API (audited with what it deleted). */
  async sweepByRequest(p: Principal, orphans: boolean): Promise<SweepReport> {
    const report = await this.sweep({ orphans });
    await this.audit.record(p, 'run_retention_sweep', 'system', 'retention', {
      deleted:
        report.age.deleted +
        report.camera_quota.deleted +
        report.size_cap.deleted +
        report.free_floor.deleted,
    });
    return report;
  }

  private async disk(): Promise<{ total_bytes: number; free_bytes: number } | null> {
    await this.storage.ensureDir(this.config.recordingsDirAbs);
    const s = await this.storage.diskStats(this.config.recordingsDirAbs);
    return s ? { total_bytes: s.totalBytes, free_bytes: s.freeBytes } : null;
  }

  /** Effective limits, usage, the forecast and the last sweep; a camera-scoped caller sees only
   * its cameras' forecast (no fleet usage, capacity or sweep). */
  async describe(p: Principal): Promise<RetentionDto> {
    const limits = await this.limits();
    const [usage, written, policies, disk, snaps] = await Promise.all([
      this.segments.usage(),
      this.segments.writtenInLast(24),
      this.cameras.retentionPolicies(),
      this.disk(),
      this.snapshots.usage(),
    ]);
    const eventCams = policies.filter((c) => isEventMode(c.recordMode)).map((c) => c.id);
    const kept =
      eventCams.length > 0 ? await this.segments.keptInLast(eventCams, 24) : new Map<string, number>();
    const byCam = new Map(usage.map((u) => [u.cameraId, u]));
    // Snapshots at steady state: what the last day's schedule writes for the whole retention, or
    // what is stored now when that is more.
    const snapshotBytes = (id: string) =>
      Math.max(
        snaps.bytes.get(id) ?? 0,
        ((snaps.bytesPerDay.get(id) ?? 0) * this.snapshots.retentionHours) / 24,
      );
    const f = forecast({
      cameras: policies.map((c) => ({
        cameraId: c.id,
        name: c.name,
        retentionHours: c.retentionHours,
        quotaBytes: c.quotaBytes,
        recordingsBytes: byCam.get(c.id)?.totalBytes ?? 0,
        protectedBytes: byCam.get(c.id)?.protectedBytes ?? 0,
        writeRateBytesPerDay: keptWriteRate(c.recordMode, written.get(c.id) ?? 0, kept.get(c.id) ?? 0),
        snapshotBytes: snapshotBytes(c.id),
      })),
      capBytes: limits.capBytes,
      minFreeBytes: limits.floorBytes,
      disk: disk ? { totalBytes: disk.total_bytes, freeBytes: disk.free_bytes } : null,
    });
    const fleet = p.cameraScope === 'all';
    return {
      max_recordings_gb: round(limits.capBytes / GIB),
      max_recordings_bytes: limits.capBytes,
      max_overridden: limits.capOverridden,
      min_free_disk_gb: round(limits.floorBytes / GIB),
      min_free_disk_bytes: limits.floorBytes,
      min_free_overridden: limits.floorOverridden,
      interval_s: this.config.retentionIntervalS,
      clip_retention_hours: this.config.clipRetentionHours,
      snapshot_retention_hours: this.config.snapshotRetentionHours,
      detection_retention_hours: this.config.detectionRetentionHours,
      audit_retention_days: this.config.auditRetentionDays,
      usage: fleet
        ? {
            recordings_bytes: usage.reduce((s, u) => s + u.totalBytes, 0),
            protected_bytes: usage.reduce((s, u) => s + u.protectedBytes, 0),
            snapshots_bytes: [...snaps.bytes.values()].reduce((s, b) => s + b, 0),
            disk,
          }
        : null,
      forecast: fleet
        ? f
        : {
            ...f,
            capacity_bytes: null,
            write_rate_bytes_per_day: 0,
            store_days: null,
            cameras: f.cameras.filter((c) => canSeeCamera(p, c.camera_id)),
          },
      last_sweep: fleet ? this.lastSweep : null,
    };
  }
}
