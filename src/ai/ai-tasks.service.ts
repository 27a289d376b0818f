import { AiTasksRepository } from './ai-tasks.repository';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { canSeeCamera, type Principal } from '../auth/principal';
import { CameraDeletionHooks } from '../cameras/camera-deletion-hooks';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { ConflictError, NotFoundError } from '../common/errors';
import { prefixedId } from '../common/ids';
import { HeldarConfig } from '../config/heldar-config';
import { DatabaseService } from '../database/database.service';
import type { JsonObject } from '../database/columns';
import { EventsService } from '../events/events.service';
import { AiTaskEntity, type StreamProfile } from './entities/ai-task.entity';
import { loadScoped } from '../common/validation';

const WORKER_TTL_MS = 60_000;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export interface AiTaskDto {
  id: string;
  camera_id: string;
  task_type: string;
  enabled: boolean;
  stream_profile: StreamProfile;
  fps: number;
  width: number;
  config: JsonObject;
  created_at: string;
  updated_at: string;
}

export interface WorkerTaskDto {
  id: string;
  camera_id: string;
  task_type: string;
  stream_profile: StreamProfile;
  fps: number;
  width: number;
  config: JsonObject;
  frame_url: string;
}

export function toTaskDto(t: AiTaskEntity): AiTaskDto {
  return {
    id: t.id,
    camera_id: t.cameraId,
    task_type: t.taskType,
    enabled: t.enabled,
    stream_profile: t.streamProfile,
    fps: t.fps,
    width: t.width,
    config: t.config,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  };
}

export interface TaskInput {
  task_type?: string;
  stream_profile?: StreamProfile;
  fps?: number;
  width?: number;
  config?: JsonObject;
  enabled?: boolean;
}

/**
 * AI tasks (what workers do on which camera, and how frames are sampled for them) and worker
 * discovery: workers of one credential share the enabled tasks by `index mod n`.
 * Task changes are announced on the bus (`ai_tasks_changed`) so the sampler rebalances.
 */
@Injectable()
export class AiTasksService implements OnApplicationBootstrap {
  constructor(
    private readonly db: DatabaseService,
    private readonly repo: AiTasksRepository,
    private readonly cameras: CamerasService,
    private readonly audit: AuditService,
    private readonly events: EventsService,
    private readonly deletionHooks: CameraDeletionHooks,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.deletionHooks.add('ai_tasks', async (cameraId) => {
      await this.repo.deleteForCamera(cameraId);
    });
  }

  listForCamera(cameraId: string): Promise<AiTaskEntity[]> {
    return this.repo.listForCamera(cameraId);
  }

  /** Enabled tasks on enabled cameras, by id. */
  async enabledTasks(): Promise<AiTaskEntity[]> {
    const tasks = await this.repo.listEnabled();
    const out: AiTaskEntity[] = [];
    for (const t of tasks) {
      const cam = await this.cameras.lookup(t.cameraId);
      if (cam?.enabled) out.push(t);
    }
    return out;
  }

  private async load(p: Principal, id: string): Promise<AiTaskEntity> {
    return loadScoped(p, () => this.repo.get(id), {
      forbidden: `credential is not scoped to the camera of task \`${id}\``,
      notFound: () => new NotFoundError(`AI task \`${id}\` not found`, 'AI_TASK_NOT_FOUND'),
    });
  }

  /** Idempotent per (camera, task_type, stream_profile): an existing task is returned as is. */
  async create(
    p: Principal,
    cameraId: string,
    input: TaskInput & { task_type: string },
  ): Promise<{ task: AiTaskEntity; created: boolean }> {
    if (!(await this.cameras.lookup(cameraId))) {
      throw new NotFoundError(`camera \`${cameraId}\` not found`, 'CAMERA_NOT_FOUND');
    }
    const profile = input.stream_profile ?? 'sub';
    const taskType = input.task_type.trim();
    const result = await this.db.transaction(async () => {
      const existing = await this.repo.getByKey(cameraId, taskType, profile);
      if (existing) return { task: existing, created: false };
      const now = this.clock.nowIso();
      const row: AiTaskEntity = {
        id: prefixedId('ai_'),
        cameraId,
        taskType,
        enabled: input.enabled ?? true,
        streamProfile: profile,
        fps: clamp(input.fps ?? this.config.aiDefaultFps, 0.1, 30),
        width: Math.round(clamp(input.width ?? this.config.aiDefaultWidth, 160, 3840)),
        config: input.config ?? {},
        createdAt: now,
        updatedAt: now,
      };
      await this.repo.create(row);
      await this.audit.record(p, 'create_ai_task', 'ai_task', row.id, {
        camera_id: cameraId,
        task_type: taskType,
      });
      return { task: row, created: true };
    });
    if (result.created) await this.changed(cameraId);
    return result;
  }

  async update(p: Principal, id: string, input: TaskInput): Promise<AiTaskEntity> {
    const t = await this.load(p, id);
    const patch: Partial<AiTaskEntity> = { updatedAt: this.clock.nowIso() };
    if (input.task_type !== undefined) patch.taskType = input.task_type.trim();
    if (input.stream_profile !== undefined) patch.streamProfile = input.stream_profile;
    if (input.fps !== undefined) patch.fps = clamp(input.fps, 0.1, 30);
    if (input.width !== undefined) patch.width = Math.round(clamp(input.width, 160, 3840));
    if (input.config !== undefined) patch.config = input.config;
    if (input.enabled !== undefined) patch.enabled = input.enabled;
    await this.db.transaction(async () => {
      const clash = await this.repo.getByKey(
        t.cameraId,
        patch.taskType ?? t.taskType,
        patch.streamProfile ?? t.streamProfile,
      );
      if (clash && clash.id !== id) {
        throw new ConflictError(
          'another task of this camera has that task_type and stream_profile',
          'AI_TASK_EXISTS',
        );
      }
      await this.repo.update(id, patch);
      await this.audit.record(p, 'update_ai_task', 'ai_task', id, {
        camera_id: t.cameraId,
        fields: Object.keys(input),
      });
    });
    await this.changed(t.cameraId);
    return (await this.repo.get(id))!;
  }

  async delete(p: Principal, id: string): Promise<void> {
    const t = await this.load(p, id);
    await this.db.transaction(async () => {
      await this.repo.delete(id);
      await this.audit.record(p, 'delete_ai_task', 'ai_task', id, { camera_id: t.cameraId });
    });
    await this.changed(t.cameraId);
  }

  private async changed(cameraId: string): Promise<void> {
    await this.events.emit({ type: 'ai_tasks_changed', severity: 'info', cameraId });
  }

  /**
   * Worker discovery. With `workerId`: heartbeat, forget workers unseen for 60 s, and return this
   * worker's share (task i belongs to the worker at index i mod n among the live workers of the
   * same credential). A worker id bound to another credential is refused.
   */
  async discover(p: Principal, workerId: string | undefined): Promise<WorkerTaskDto[]> {
    const tasks = (await this.enabledTasks()).filter((t) => canSeeCamera(p, t.cameraId));
    let mine = tasks;
    if (workerId !== undefined) {
      const now = this.clock.nowMs();
      const live = await this.db.transaction(async () => {
        await this.repo.forgetWorkersBefore(new Date(now - WORKER_TTL_MS).toISOString());
        const row = await this.repo.getWorker(workerId);
        if (row && row.credential !== p.id) {
          throw new ConflictError(
            `worker id \`${workerId}\` belongs to another credential`,
            'WORKER_ID_TAKEN',
          );
        }
        await this.repo.saveWorker({ workerId, credential: p.id, lastSeen: new Date(now).toISOString() });
        return this.repo.workerIdsOf(p.id);
      });
      const index = live.indexOf(workerId);
      mine = tasks.filter((_, i) => i % live.length === index);
    }
    return mine.map((t) => ({
      id: t.id,
      camera_id: t.cameraId,
      task_type: t.taskType,
      stream_profile: t.streamProfile,
      fps: t.fps,
      width: t.width,
      config: t.config,
      frame_url: `/api/v1/cameras/${encodeURIComponent(t.cameraId)}/frame?profile=${t.streamProfile}&task=${t.id}`,
    }));
  }
}
