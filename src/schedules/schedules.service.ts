import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Subject } from 'rxjs';
import { AuditService } from '../audit/audit.service';
import { type Principal } from '../auth/principal';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { BadRequestError, NotFoundError } from '../common/errors';
import { prefixedId } from '../common/ids';
import { CameraDeletionHooks } from '../cameras/camera-deletion-hooks';
import { CacheInvalidation } from '../events/cache-invalidation';
import { RecordingScheduleEntity } from './entities/recording-schedule.entity';
import { parseHhMm, type ScheduleWindow, scheduleOpen } from './schedule-logic';
import { SchedulesRepository } from './schedules.repository';
import { KeyedSerialQueue, loadScoped } from '../common/validation';

/** The cache scope of recording schedules: key `camera` (its windows changed). */
export const SCHEDULES_CACHE = 'recording_schedules';

export interface ScheduleInput {
  days?: number[];
  time_start?: string;
  time_end?: string;
  enabled?: boolean;
}

function toWindow(r: RecordingScheduleEntity): ScheduleWindow {
  return {
    days: r.days,
    startMin: parseHhMm(r.timeStart) ?? 0,
    endMin: parseHhMm(r.timeEnd, true) ?? 0,
    enabled: r.enabled,
  };
}

function checkDays(days: unknown): number[] {
  if (
    !Array.isArray(days) ||
    days.length === 0 ||
    days.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 6)
  )
    throw new BadRequestError('days must be a non-empty list of 0..6 (0 = Monday)', 'VALIDATION_FAILED');
  return [...new Set(days as number[])].sort((a, b) => a - b);
}

function checkTime(name: string, v: string, allow24: boolean): string {
  if (parseHhMm(v, allow24) === null)
    throw new BadRequestError(
      `${name} must be "HH:MM" (00:00..23:59${allow24 ? ', or 24:00' : ''}), got \`${v}\``,
      'VALIDATION_FAILED',
    );
  return v;
}

/**
 * Recording schedules: weekly windows per camera, evaluated on the camera's site wall clock.
 * Every window is held in memory (a few per camera), so the recorder's check every few seconds
 * reads no row. A change, made through this node or another one of the cluster (CacheInvalidation),
 * re-reads that camera's windows, is announced on `changes$` and reconciles its recorder at once.
 */
@Injectable()
export class SchedulesService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly byCamera = new Map<string, RecordingScheduleEntity[]>();
  private readonly changed = new Subject<string>();
  /** Camera ids whose windows changed (created, updated, deleted). */
  readonly changes$ = this.changed.asObservable();
  private loaded = false;
  /** Re-reads of one camera run one after another: the last one started leaves the newest rows. */
  private readonly rereads = new KeyedSerialQueue();

  constructor(
    private readonly repo: SchedulesRepository,
    private readonly cameras: CamerasService,
    private readonly audit: AuditService,
    private readonly deletionHooks: CameraDeletionHooks,
    private readonly clock: Clock,
    private readonly caches: CacheInvalidation,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.caches.on(
      SCHEDULES_CACHE,
      (keys) => (keys?.camera ? this.refresh(keys.camera) : this.reloadAll()),
      'recording-schedules',
    );
    this.deletionHooks.add('schedules', async (id) => {
      this.byCamera.delete(id);
      await this.repo.deleteCamera(id);
    });
    await this.load();
  }

  onModuleDestroy(): void {
    this.changed.complete();
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.fill(await this.repo.all());
    this.loaded = true;
  }

  /** Hold exactly `rows` (read first, swapped at once: a check meanwhile sees the old windows). */
  private fill(rows: RecordingScheduleEntity[]): void {
    this.byCamera.clear();
    for (const r of rows) {
      const list = this.byCamera.get(r.cameraId) ?? [];
      list.push(r);
      this.byCamera.set(r.cameraId, list);
    }
  }

  /** Whether any of the camera's windows is open at `ms` in `tz` (no window: closed). */
  isOpen(cameraId: string, tz: string, ms: number): boolean {
    return scheduleOpen((this.byCamera.get(cameraId) ?? []).map(toWindow), tz, ms);
  }

  async list(p: Principal, cameraId: string): Promise<RecordingScheduleEntity[]> {
    await this.cameras.assertVisible(p, cameraId, 'read its schedules');
    await this.load();
    return [...(this.byCamera.get(cameraId) ?? [])];
  }

  async create(p: Principal, cameraId: string, input: ScheduleInput): Promise<RecordingScheduleEntity> {
    await this.cameras.assertVisible(p, cameraId, 'change its schedules');
    if (input.time_start === undefined || input.time_end === undefined || input.days === undefined)
      throw new BadRequestError('days, time_start and time_end are required', 'VALIDATION_FAILED');
    const now = this.clock.nowIso();
    const row: RecordingScheduleEntity = {
      id: prefixedId('sch_'),
      cameraId,
      days: checkDays(input.days),
      timeStart: checkTime('time_start', input.time_start, false),
      timeEnd: checkTime('time_end', input.time_end, true),
      enabled: input.enabled ?? true,
      createdAt: now,
      updatedAt: now,
    };
    await this.repo.transaction(async () => {
      await this.repo.insert(row);
      await this.audit.record(p, 'create_schedule', 'schedule', row.id, {
        camera_id: cameraId,
        days: row.days,
        time_start: row.timeStart,
        time_end: row.timeEnd,
      });
    });
    await this.caches.publish(SCHEDULES_CACHE, { camera: cameraId });
    return row;
  }

  async update(p: Principal, id: string, input: ScheduleInput): Promise<RecordingScheduleEntity> {
    const current = await this.load1(p, id, 'change it');
    const patch: Partial<RecordingScheduleEntity> = { updatedAt: this.clock.nowIso() };
    if (input.days !== undefined) patch.days = checkDays(input.days);
    if (input.time_start !== undefined) patch.timeStart = checkTime('time_start', input.time_start, false);
    if (input.time_end !== undefined) patch.timeEnd = checkTime('time_end', input.time_end, true);
    if (input.enabled !== undefined) patch.enabled = input.enabled;
    await this.repo.transaction(async () => {
      await this.repo.update(id, patch);
      await this.audit.record(p, 'update_schedule', 'schedule', id, {
        camera_id: current.cameraId,
        fields: Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined),
      });
    });
    await this.caches.publish(SCHEDULES_CACHE, { camera: current.cameraId });
    return { ...current, ...patch };
  }

  async delete(p: Principal, id: string): Promise<void> {
    const current = await this.load1(p, id, 'delete it');
    await this.repo.transaction(async () => {
      await this.repo.delete(id);
      await this.audit.record(p, 'delete_schedule', 'schedule', id, { camera_id: current.cameraId });
    });
    await this.caches.publish(SCHEDULES_CACHE, { camera: current.cameraId });
  }

  private async load1(p: Principal, id: string, action: string): Promise<RecordingScheduleEntity> {
    return loadScoped(p, () => this.repo.get(id), {
      forbidden: `credential is not scoped to the camera of schedule \`${id}\` (cannot ${action})`,
      notFound: () => new NotFoundError(`schedule \`${id}\` not found`, 'SCHEDULE_NOT_FOUND'),
    });
  }

  /** Re-read one camera's windows after a change (from the table: the truth after the commit). */
  private refresh(cameraId: string): Promise<void> {
    return this.rereads.run(cameraId, async () => {
      const rows = await this.repo.forCamera(cameraId);
      if (rows.length > 0) this.byCamera.set(cameraId, rows);
      else this.byCamera.delete(cameraId);
      this.changed.next(cameraId);
    });
  }

  /** Changes may have been missed (the cluster's notifications were cut): re-read every window. */
  private async reloadAll(): Promise<void> {
    const rows = await this.repo.all();
    const before = new Set(this.byCamera.keys());
    this.fill(rows);
    this.loaded = true;
    for (const id of new Set([...before, ...this.byCamera.keys()])) this.changed.next(id);
  }
}
