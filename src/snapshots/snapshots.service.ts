import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { dirname, join } from 'node:path';
import { AuditService } from '../audit/audit.service';
import { type Principal } from '../auth/principal';
import { CameraDeletionHooks } from '../cameras/camera-deletion-hooks';
import { CamerasService } from '../cameras/cameras.service';
import { CameraOwnership } from '../cluster/camera-leases.ownership';
import { Clock } from '../common/clock';
import { BadRequestError, NotFoundError } from '../common/errors';
import { prefixedId } from '../common/ids';
import { Leadership } from '../common/leadership';
import { Loops } from '../common/loops';
import { RowRetention } from '../common/row-retention';
import { HeldarConfig } from '../config/heldar-config';
import { CacheInvalidation, type CacheKeys } from '../events/cache-invalidation';
import { ExportsService } from '../exports/exports.service';
import { StorageAdapter } from '../media/storage.adapter';
import { segmentNode } from '../timeline/timeline-logic';
import type { SnapshotEntity } from './entities/snapshot.entity';
import type { SnapshotScheduleEntity } from './entities/snapshot-schedule.entity';
import {
  isDue,
  isJpeg,
  SNAPSHOT_INTERVAL_DEFAULT_S,
  SNAPSHOT_INTERVAL_MAX_S,
  SNAPSHOT_INTERVAL_MIN_S,
  snapshotRelPath,
  takesSnapshotsOf,
} from './snapshot-logic';
import { SnapshotsRepository } from './snapshots.repository';
import { KeyedSerialQueue, loadScoped } from '../common/validation';

/** The cache scope of snapshot schedules: key `schedule` (its id). */
export const SNAPSHOT_SCHEDULES_CACHE = 'snapshot_schedules';

export interface SnapshotScheduleInput {
  interval_seconds?: number;
  enabled?: boolean;
}

/** How often the loop looks for due schedules (the shortest interval is 5 s). */
const TICK_MS = 1000;
/** Snapshots grabbed at once by the schedules (each also takes a media-job slot). */
export const SNAPSHOT_CONCURRENCY = 2;
/** Rows (and files) removed per step of the age prune. */
const PRUNE_BATCH = 500;
const HOUR_MS = 3_600_000;

function checkInterval(v: unknown): number {
  if (
    typeof v !== 'number' ||
    !Number.isInteger(v) ||
    v < SNAPSHOT_INTERVAL_MIN_S ||
    v > SNAPSHOT_INTERVAL_MAX_S
  )
    throw new BadRequestError(
      `interval_seconds must be an integer in ${SNAPSHOT_INTERVAL_MIN_S}..${SNAPSHOT_INTERVAL_MAX_S}`,
      'VALIDATION_FAILED',
    );
  return v;
}

export interface SnapshotUsage {
  /** Bytes of every stored snapshot, per camera. */
  bytes: Map<string, number>;
  /** Bytes of the snapshots taken in the last 24 h, per camera. */
  bytesPerDay: Map<string, number>;
}

/**
 * Snapshot schedules: every enabled schedule takes a live JPEG of its camera each
 * `interval_seconds` (through the exports' snapshot, so the media-job governor bounds it too), at
 * most SNAPSHOT_CONCURRENCY at once and one per camera at a time, on the node that records the
 * camera (in a cluster: its lease holder; the row names the node whose data dir holds the file).
 * A camera that fails is logged and tried again at its next interval. Files live under `<data>/snapshots/<camera>/<day>/`,
 * rows in `snapshots`; both go after HELDAR_SNAPSHOT_RETENTION_HOURS in the retention sweep.
 */
@Injectable()
export class SnapshotsService implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Snapshots');
  private readonly schedules = new Map<string, SnapshotScheduleEntity>();
  private readonly nextDue = new Map<string, number>();
  /** Cameras with a grab in flight, and the grabs themselves (awaited at shutdown). */
  private readonly busyCameras = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  /** The last file name second per camera (two schedules in one second get distinct names). */
  private readonly lastStamp = new Map<string, { second: number; seq: number }>();
  private stopped = false;
  /** Re-reads of one schedule run one after another: the last one started leaves the newest row. */
  private readonly rereads = new KeyedSerialQueue();

  constructor(
    private readonly repo: SnapshotsRepository,
    private readonly cameras: CamerasService,
    private readonly exportsService: ExportsService,
    private readonly audit: AuditService,
    private readonly deletionHooks: CameraDeletionHooks,
    private readonly storage: StorageAdapter,
    private readonly loops: Loops,
    private readonly rowRetention: RowRetention,
    private readonly clock: Clock,
    private readonly ownership: CameraOwnership,
    private readonly leadership: Leadership,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    private readonly caches: CacheInvalidation,
  ) {}

  get rootDir(): string {
    return join(this.config.dataDirAbs, 'snapshots');
  }

  onModuleInit(): void {
    this.rowRetention.register({ name: 'snapshots', ttl: 'snapshot', prune: (c) => this.pruneOlderThan(c) });
  }

  async onApplicationBootstrap(): Promise<void> {
    // A schedule changed through this node or another one of the cluster.
    this.caches.on(SNAPSHOT_SCHEDULES_CACHE, (keys) => this.reread(keys), 'snapshot-schedules');
    this.deletionHooks.add('snapshots', async (id) => {
      for (const s of [...this.schedules.values()]) if (s.cameraId === id) this.forget(s.id);
      await this.repo.deleteSchedulesOf(id);
    });
    for (const s of await this.repo.allSchedules()) this.schedules.set(s.id, s);
    // Per node: each node grabs the cameras it records (its leases in a cluster; every camera on a
    // single node), so a JPEG lands next to that camera's footage and no camera is grabbed twice.
    this.loops.start('snapshots', TICK_MS, () => this.tick());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.loops.stop('snapshots');
    await Promise.all([...this.inFlight]);
  }

  // ---- the loop ------------------------------------------------------------------------------

  /** Start the grab of every due schedule of a camera this node takes, within the concurrency
   * bound (never waits for one). */
  async tick(): Promise<void> {
    const here = await this.takenHere();
    const now = this.clock.nowMs();
    for (const s of this.schedules.values()) {
      if (this.stopped || this.inFlight.size >= SNAPSHOT_CONCURRENCY) return;
      if (!s.enabled || this.busyCameras.has(s.cameraId) || !here(s.cameraId)) continue;
      if (!isDue(this.nextDue.get(s.id) ?? null, s.intervalSeconds, now)) continue;
      this.nextDue.set(s.id, now + s.intervalSeconds * 1000);
      this.busyCameras.add(s.cameraId);
      const p: Promise<void> = this.take(s)
        .catch((err: unknown) =>
          // Logged, never thrown: the schedule is tried again at its next interval.
          // (the error is the exports' own: stream credentials already masked)
          this.logger.warn(
            `snapshot of camera ${s.cameraId} failed (schedule ${s.id}): ${
              err instanceof Error ? err.message : String(err)
            }; next try in ${s.intervalSeconds} s`,
          ),
        )
        .finally(() => {
          this.busyCameras.delete(s.cameraId);
          this.inFlight.delete(p);
        });
      this.inFlight.add(p);
    }
  }

  /** Which cameras' schedules this node runs (`takesSnapshotsOf`). A single node: every camera,
   * nothing read. In a cluster the recorded cameras come from the cached camera policies. */
  private async takenHere(): Promise<(cameraId: string) => boolean> {
    if (this.config.isSqlite) return () => true;
    const recorded = new Set(
      this.config.recorderEnabled
        ? (await this.cameras.listPolicies()).filter((c) => c.enabled && c.recordEnabled).map((c) => c.id)
        : [],
    );
    const leader = this.leadership.isLeader();
    return (cameraId) =>
      takesSnapshotsOf({ owns: this.ownership.owns(cameraId), leader, recorded: recorded.has(cameraId) });
  }

  private fileName(cameraId: string, ms: number): string {
    const second = Math.floor(ms / 1000);
    const last = this.lastStamp.get(cameraId);
    const seq = last && last.second === second ? last.seq + 1 : 0;
    this.lastStamp.set(cameraId, { second, seq });
    return snapshotRelPath(cameraId, ms, seq);
  }

  private async take(s: SnapshotScheduleEntity): Promise<void> {
    const jpeg = await this.exportsService.snapshot(s.cameraId);
    if (!isJpeg(jpeg)) throw new Error('the grab is not a JPEG');
    if (this.stopped || !this.schedules.has(s.id)) return; // deleted (or shutting down) meanwhile
    const takenMs = this.clock.nowMs();
    const rel = this.fileName(s.cameraId, takenMs);
    const file = join(this.rootDir, rel);
    await this.storage.ensureDir(dirname(file));
    const tmp = `${file}.part`;
    await this.storage.writeBytes(tmp, jpeg);
    await this.storage.rename(tmp, file);
    try {
      await this.repo.insertSnapshot({
        id: prefixedId('snap_'),
        cameraId: s.cameraId,
        takenAt: new Date(takenMs).toISOString(),
        path: rel,
        sizeBytes: jpeg.length,
        nodeId: segmentNode(this.config),
      });
    } catch (err) {
      await this.storage.remove(file);
      throw err;
    }
  }

  // ---- retention -----------------------------------------------------------------------------

  /** Remove the snapshots taken before `cutoffIso`, rows then files, oldest first in batches
   * (reads only what goes: the index on taken_at). Returns how many went. */
  async pruneOlderThan(cutoffIso: string): Promise<number> {
    let total = 0;
    for (;;) {
      // Per-node storage: only the files in this node's data dir (every node prunes its own).
      const gone = await this.repo.takeOlderThan(cutoffIso, PRUNE_BATCH, segmentNode(this.config));
      const dirs = new Set<string>();
      for (const r of gone) {
        const file = join(this.rootDir, r.path);
        dirs.add(dirname(file));
        if (!(await this.storage.remove(file)))
          this.logger.warn({ path: r.path }, 'snapshot row deleted but its file could not be removed');
      }
      for (const d of dirs) await this.storage.removeEmptyDir(d).catch(() => undefined);
      total += gone.length;
      if (gone.length < PRUNE_BATCH) return total;
    }
  }

  /** Stored snapshot bytes per camera, and those of the last 24 h (for retention's figures). */
  async usage(): Promise<SnapshotUsage> {
    const since = new Date(this.clock.nowMs() - 24 * HOUR_MS).toISOString();
    const [all, day] = await Promise.all([this.repo.usage(), this.repo.usage(since)]);
    return {
      bytes: new Map(all.map((u) => [u.cameraId, u.bytes])),
      bytesPerDay: new Map(day.map((u) => [u.cameraId, u.bytes])),
    };
  }

  get retentionHours(): number {
    return this.config.snapshotRetentionHours;
  }

  // ---- snapshots -----------------------------------------------------------------------------

  async list(
    p: Principal,
    cameraId: string,
    from: string | undefined,
    to: string | undefined,
    limit: number,
  ): Promise<SnapshotEntity[]> {
    await this.cameras.assertVisible(p, cameraId, 'read its snapshots');
    const fromIso = from ? new Date(from).toISOString() : null;
    const toIso = to ? new Date(to).toISOString() : null;
    if (fromIso && toIso && fromIso > toIso)
      throw new BadRequestError('from must not be after to', 'VALIDATION_FAILED');
    return this.repo.list(cameraId, fromIso, toIso, limit);
  }

  // ---- schedules -----------------------------------------------------------------------------

  async listSchedules(p: Principal, cameraId: string): Promise<SnapshotScheduleEntity[]> {
    await this.cameras.assertVisible(p, cameraId, 'read its snapshot schedules');
    return this.repo.schedulesOf(cameraId);
  }

  async createSchedule(
    p: Principal,
    cameraId: string,
    input: SnapshotScheduleInput,
  ): Promise<SnapshotScheduleEntity> {
    await this.cameras.assertVisible(p, cameraId, 'change its snapshot schedules');
    const now = this.clock.nowIso();
    const row: SnapshotScheduleEntity = {
      id: prefixedId('ssch_'),
      cameraId,
      intervalSeconds:
        input.interval_seconds === undefined
          ? SNAPSHOT_INTERVAL_DEFAULT_S
          : checkInterval(input.interval_seconds),
      enabled: input.enabled ?? true,
      createdAt: now,
      updatedAt: now,
    };
    await this.repo.transaction(async () => {
      await this.repo.insertSchedule(row);
      await this.audit.record(p, 'create_snapshot_schedule', 'snapshot_schedule', row.id, {
        camera_id: cameraId,
        interval_seconds: row.intervalSeconds,
        enabled: row.enabled,
      });
    });
    await this.caches.publish(SNAPSHOT_SCHEDULES_CACHE, { schedule: row.id });
    return row;
  }

  async updateSchedule(
    p: Principal,
    id: string,
    input: SnapshotScheduleInput,
  ): Promise<SnapshotScheduleEntity> {
    const current = await this.loadSchedule(p, id, 'change it');
    const patch: Partial<SnapshotScheduleEntity> = { updatedAt: this.clock.nowIso() };
    if (input.interval_seconds !== undefined) patch.intervalSeconds = checkInterval(input.interval_seconds);
    if (input.enabled !== undefined) patch.enabled = input.enabled;
    await this.repo.transaction(async () => {
      await this.repo.updateSchedule(id, patch);
      await this.audit.record(p, 'update_snapshot_schedule', 'snapshot_schedule', id, {
        camera_id: current.cameraId,
        fields: Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined),
      });
    });
    await this.caches.publish(SNAPSHOT_SCHEDULES_CACHE, { schedule: id });
    return { ...current, ...patch };
  }

  async deleteSchedule(p: Principal, id: string): Promise<void> {
    const current = await this.loadSchedule(p, id, 'delete it');
    await this.repo.transaction(async () => {
      await this.repo.deleteSchedule(id);
      await this.audit.record(p, 'delete_snapshot_schedule', 'snapshot_schedule', id, {
        camera_id: current.cameraId,
      });
    });
    await this.caches.publish(SNAPSHOT_SCHEDULES_CACHE, { schedule: id });
  }

  private forget(id: string): void {
    this.schedules.delete(id);
    this.nextDue.delete(id);
  }

  /** Read a changed schedule again (`null`: every one; changes may have been missed). */
  private async reread(keys: CacheKeys | null): Promise<void> {
    if (keys?.schedule) {
      const id = keys.schedule;
      await this.rereads.run(id, async () => this.keep(id, await this.repo.getSchedule(id)));
      return;
    }
    const rows = new Map((await this.repo.allSchedules()).map((s) => [s.id, s]));
    for (const id of [...this.schedules.keys()]) if (!rows.has(id)) this.forget(id);
    for (const [id, row] of rows) this.keep(id, row);
  }

  /** Hold `row` as schedule `id` (null: it is gone). */
  private keep(id: string, row: SnapshotScheduleEntity | null): void {
    if (!row) return this.forget(id);
    const before = this.schedules.get(id);
    this.schedules.set(id, row);
    // A new interval starts from now: the next shot is one new interval after the last one.
    if (before && before.intervalSeconds !== row.intervalSeconds) this.nextDue.delete(id);
  }

  private async loadSchedule(p: Principal, id: string, action: string): Promise<SnapshotScheduleEntity> {
    return loadScoped(p, () => this.repo.getSchedule(id), {
      forbidden: `credential is not scoped to the camera of snapshot schedule \`${id}\` (cannot ${action})`,
      notFound: () =>
        new NotFoundError(`snapshot schedule \`${id}\` not found`, 'SNAPSHOT_SCHEDULE_NOT_FOUND'),
    });
  }
}
