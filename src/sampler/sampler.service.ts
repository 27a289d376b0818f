import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { join } from 'node:path';
import { AiTasksService } from '../ai/ai-tasks.service';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { HeldarConfig } from '../config/heldar-config';
import { EventBus, type Unsubscribe } from '../events/event-bus';
import { EventsService } from '../events/events.service';
import { buildSamplerArgs } from '../media/ffmpeg-args';
import { StorageAdapter } from '../media/storage.adapter';
import { ProcessSupervisor } from '../process/process-supervisor.service';
import { allocate, type SamplerRequest } from './budget';

export type SamplerState = 'connecting' | 'sampling' | 'offline' | 'error' | 'budget_exhausted';

export interface SamplerInfo {
  camera_id: string;
  stream_profile: 'main' | 'sub';
  state: SamplerState;
  priority: number;
  requested_fps: number;
  requested_width: number;
  fps: number;
  width: number;
  last_error: string | null;
}

const REBALANCE_DEBOUNCE_MS = 300;
const REBALANCE_ON = ['ai_tasks_changed', 'camera_created', 'camera_updated', 'camera_deleted'] as const;

/**
 * One supervised ffmpeg per (camera, stream profile) that has enabled AI tasks, writing
 * `<frames>/<camera>/latest_<profile>.jpg` at the fps and width the global budget grants it.
 * Rebalanced (debounced) whenever tasks or cameras change; only samplers whose grant or source
 * changed are restarted.
 */
@Injectable()
export class SamplerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Sampler');
  private readonly info = new Map<string, SamplerInfo & { argsKey: string }>();
  private off?: Unsubscribe;
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly tasks: AiTasksService,
    private readonly cameras: CamerasService,
    private readonly supervisor: ProcessSupervisor,
    private readonly storage: StorageAdapter,
    private readonly events: EventsService,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.aiEnabled) return;
    // A rebalance converges on the tables (idempotent): a change made through any node.
    this.off = this.bus.on(REBALANCE_ON, () => this.schedule(), 'sampler', { remote: true });
    this.schedule();
  }

  /** Before any onApplicationShutdown hook: the database must still be open for a rebalance in flight. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.off?.();
    await this.chain.catch(() => undefined); // a failed rebalance was logged; it must not fail the shutdown
    await Promise.all([...this.info.keys()].map((k) => this.supervisor.stop(k)));
  }

  list(): SamplerInfo[] {
    return [...this.info.values()].map(({ argsKey: _k, ...rest }) => rest);
  }

  frameFile(cameraId: string, profile: 'main' | 'sub'): string {
    return join(this.config.framesDirAbs, cameraId, `latest_${profile}.jpg`);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.rebalance().catch((err: unknown) => this.logger.error({ err }, 'sampler rebalance failed'));
    }, REBALANCE_DEBOUNCE_MS);
  }

  /** Recompute the grants and bring the running samplers in line (serialised). */
  rebalance(): Promise<void> {
    this.chain = this.chain.catch(() => undefined).then(() => this.rebalanceNow());
    return this.chain;
  }

  private async rebalanceNow(): Promise<void> {
    if (this.stopped) return;
    const groups = new Map<string, SamplerRequest>();
    for (const t of await this.tasks.enabledTasks()) {
      const key = `${t.cameraId}|${t.streamProfile}`;
      const g = groups.get(key);
      if (g) {
        g.fps = Math.max(g.fps, t.fps);
        g.width = Math.max(g.width, t.width);
      } else {
        const cam = await this.cameras.lookup(t.cameraId);
        groups.set(key, {
          cameraId: t.cameraId,
          profile: t.streamProfile,
          fps: t.fps,
          width: t.width,
          priority: cam?.priority ?? 0,
        });
      }
    }
    const grants = allocate([...groups.values()], this.config.aiMaxTotalFps);
    const wanted = new Set<string>();
    for (const g of grants) {
      const key = `sampler:${g.cameraId}:${g.profile}`;
      const req = groups.get(`${g.cameraId}|${g.profile}`)!;
      const base = {
        camera_id: g.cameraId,
        stream_profile: g.profile,
        priority: req.priority,
        requested_fps: req.fps,
        requested_width: req.width,
      };
      if (g.state === 'budget_exhausted') {
        await this.supervisor.stop(key);
        this.info.set(key, {
          ...base,
          state: 'budget_exhausted',
          fps: 0,
          width: 0,
          last_error: null,
          argsKey: '',
        });
        continue;
      }
      wanted.add(key);
      const source = await this.cameras.getStreamUrl(g.cameraId, g.profile);
      if (!source) {
        await this.supervisor.stop(key);
        this.info.set(key, {
          ...base,
          state: 'error',
          fps: g.fps,
          width: g.width,
          last_error: 'the camera has no stream URL',
          argsKey: '',
        });
        continue;
      }
      const out = this.frameFile(g.cameraId, g.profile);
      const args = buildSamplerArgs(source.url, g.fps, g.width, out);
      const argsKey = args.join('\u0000');
      const current = this.info.get(key);
      if (current && current.argsKey === argsKey && this.supervisor.get(key)) {
        Object.assign(current, base, { fps: g.fps, width: g.width });
        continue;
      }
      const entry: SamplerInfo & { argsKey: string } = {
        ...base,
        state: 'connecting',
        fps: g.fps,
        width: g.width,
        last_error: null,
        argsKey,
      };
      this.info.set(key, entry);
      await this.supervisor.replace(key, {
        name: key,
        command: this.config.ffmpegBin,
        redact: source.secrets,
        args: async () => {
          await this.storage.ensureDir(join(this.config.framesDirAbs, g.cameraId));
          return args;
        },
        onSpawn: () => {
          entry.state = 'sampling';
        },
        onExit: (exit) => {
          if (this.stopped || this.info.get(key) !== entry) return;
          entry.state = 'offline';
          entry.last_error = (exit.error ?? exit.stderrTail).trim().slice(-800) || null;
          void this.events
            .emit({
              type: 'sampler_offline',
              severity: 'warning',
              cameraId: g.cameraId,
              payload: {
                profile: g.profile,
                detail: entry.last_error,
                restart_in_seconds: exit.restartInMs === null ? null : exit.restartInMs / 1000,
              },
            })
            .catch(() => undefined);
        },
      });
    }
    for (const key of [...this.info.keys()]) {
      const i = this.info.get(key)!;
      if (!wanted.has(key) && i.state !== 'budget_exhausted') {
        await this.supervisor.stop(key);
        this.info.delete(key);
      } else if (
        i.state === 'budget_exhausted' &&
        !grants.some((g) => `sampler:${g.cameraId}:${g.profile}` === key)
      ) {
        this.info.delete(key);
      }
    }
    const shed = grants.filter((g) => g.state === 'budget_exhausted').length;
    if (shed > 0)
      this.logger.warn(
        `${shed} sampler(s) shed: the AI fps budget (${this.config.aiMaxTotalFps}) is exhausted`,
      );
  }

  /** Age and capture time of the latest frame of a camera's profile, or null when there is none. */
  async latestFrame(
    cameraId: string,
    profile: 'main' | 'sub',
  ): Promise<{ data: Buffer; capturedAt: Date; ageMs: number } | null> {
    const file = this.frameFile(cameraId, profile);
    const st = await this.storage.stat(file);
    if (!st) return null;
    const data = await this.storage.read(file).catch(() => null);
    if (!data) return null;
    return { data, capturedAt: new Date(st.mtimeMs), ageMs: Math.max(0, this.clock.nowMs() - st.mtimeMs) };
  }
}
