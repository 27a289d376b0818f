import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge } from 'prom-client';
import { AiTasksService } from '../ai/ai-tasks.service';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { HeldarConfig } from '../config/heldar-config';
import { EventBus, type KernelEvent, type Unsubscribe } from '../events/event-bus';
import { HlsPublisherService } from '../liveview/hls-publisher.service';
import { StorageAdapter } from '../media/storage.adapter';
import { SidecarsService } from '../sidecars/sidecars.service';
import { RecorderService } from '../recorder/recorder.service';
import { SamplerService } from '../sampler/sampler.service';
import { SegmentPruner } from '../timeline/segment-pruner.service';
import { KERNEL_VERSION } from '../version';
import { Telemetry } from '../common/telemetry';
import { LeaseService } from '../cluster/lease.service';

interface Aggregates {
  segments: number;
  recordingsBytes: number;
  aiTasksEnabled: number;
  modules: Array<{ id: string; health: string }>;
}

/** Store-wide figures are re-read at most this often, in the background (never on a scrape's path once warm). */
const AGGREGATES_TTL_MS = 30_000;

/**
 * The gauges of `/metrics`. Per-camera recorder figures come from the recorder's in-memory status
 * mirror, samplers and live publishers from their services' memory, counters from the event bus;
 * store-wide totals (segments, bytes, AI tasks, sidecars) from a cache refreshed off the scrape path.
 */
@Injectable()
export class MetricsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Metrics');
  private readonly cameraNames = new Map<string, string>();
  private aggregates: Aggregates | null = null;
  private aggregatesAtMs = 0;
  private refreshing: Promise<void> | null = null;
  private off?: Unsubscribe;

  constructor(
    private readonly telemetry: Telemetry,
    private readonly cameras: CamerasService,
    private readonly recorder: RecorderService,
    private readonly sampler: SamplerService,
    private readonly segments: SegmentPruner,
    private readonly aiTasks: AiTasksService,
    private readonly modules: SidecarsService,
    private readonly hls: HlsPublisherService,
    private readonly storage: StorageAdapter,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly leases: LeaseService,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {
    this.register();
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const c of await this.cameras.listNames()) this.cameraNames.set(c.id, c.name);
    // Remote events too, for the camera names only: the counters count this node's events.
    this.off = this.bus.onAny((e) => this.onEvent(e), 'metrics', { remote: true });
  }

  onModuleDestroy(): void {
    this.off?.();
  }

  private events?: Counter<'severity'>;
  private retentionSegments?: Counter<'reason'>;
  private retentionBytes?: Counter<'reason'>;

  private onEvent(e: KernelEvent): void {
    if (!e.remote) this.events?.inc({ severity: e.severity });
    if (e.cameraId && (e.eventType === 'camera_created' || e.eventType === 'camera_updated')) {
      const id = e.cameraId;
      void this.cameras
        .lookup(id)
        .then((c) => c && this.cameraNames.set(id, c.name))
        .catch(() => undefined);
    }
    if (e.cameraId && e.eventType === 'camera_deleted') this.cameraNames.delete(e.cameraId);
    if (e.eventType === 'retention_delete' && !e.remote) {
      const p = e.payload as { reason?: unknown; deleted?: unknown; bytes?: unknown };
      const reason = typeof p.reason === 'string' ? p.reason : 'unknown';
      if (typeof p.deleted === 'number') this.retentionSegments?.inc({ reason }, p.deleted);
      if (typeof p.bytes === 'number') this.retentionBytes?.inc({ reason }, p.bytes);
    }
  }

  /** The cached store-wide figures; a stale cache is refreshed in the background (the first call waits). */
  private async getAggregates(): Promise<Aggregates> {
    const stale = this.clock.nowMs() - this.aggregatesAtMs > AGGREGATES_TTL_MS;
    if (stale && !this.refreshing) {
      this.refreshing = this.refreshAggregates()
        .catch((err: unknown) => this.logger.warn({ err }, 'metrics aggregates refresh failed'))
        .finally(() => (this.refreshing = null));
    }
    if (!this.aggregates && this.refreshing) await this.refreshing;
    return this.aggregates ?? { segments: 0, recordingsBytes: 0, aiTasksEnabled: 0, modules: [] };
  }

  private async refreshAggregates(): Promise<void> {
    const [totals, usage, tasks, modules] = await Promise.all([
      this.segments.totals(null),
      this.segments.usage(),
      this.aiTasks.enabledTasks(),
      this.modules.list(),
    ]);
    this.aggregates = {
      segments: totals.count,
      recordingsBytes: usage.reduce((s, u) => s + u.totalBytes, 0),
      aiTasksEnabled: tasks.length,
      modules: modules.map((m) => ({ id: m.id, health: m.health })),
    };
    this.aggregatesAtMs = this.clock.nowMs();
  }

  private register(): void {
    const registers = [this.telemetry.registry];
    // The event-loop delay histogram samples on a timer: prom-client's default (10 ms) woke an idle
    // kernel 100 times a second, most of what it cost when nothing happens. At 100 ms a stall of
    // 100 ms or more is always seen and a shorter one in proportion to its length.
    collectDefaultMetrics({ register: this.telemetry.registry, eventLoopMonitoringPrecision: 100 });
    this.events = new Counter({
      name: 'heldar_events_total',
      help: 'Kernel events written, by severity',
      labelNames: ['severity'] as const,
      registers,
    });
    this.retentionSegments = new Counter({
      name: 'heldar_retention_deleted_segments_total',
      help: 'Segments deleted by retention, by reason (age, camera_quota, size_cap, free_floor)',
      labelNames: ['reason'] as const,
      registers,
    });
    this.retentionBytes = new Counter({
      name: 'heldar_retention_deleted_bytes_total',
      help: 'Bytes of segments deleted by retention, by reason',
      labelNames: ['reason'] as const,
      registers,
    });
    new Gauge({
      name: 'heldar_build_info',
      help: 'Kernel version',
      labelNames: ['version'] as const,
      registers,
      collect() {
        this.set({ version: KERNEL_VERSION }, 1);
      },
    });
    // prom-client calls collect() with the metric as `this`: the kernel state is captured here.
    const { recorder, sampler, hls, storage, clock, config, cameraNames, leases } = this;
    const getAggregates = () => this.getAggregates();
    new Gauge({
      name: 'heldar_cameras',
      help: 'Cameras registered',
      registers,
      collect() {
        this.set(cameraNames.size);
      },
    });
    new Gauge({
      name: 'heldar_camera_info',
      help: 'A camera and its display name (join on `camera`)',
      labelNames: ['camera', 'name'] as const,
      registers,
      collect() {
        this.reset();
        for (const [camera, name] of cameraNames) this.set({ camera, name }, 1);
      },
    });
    new Gauge({
      name: 'heldar_cameras_recording',
      help: 'Cameras whose recorder is in state recording',
      registers,
      collect() {
        this.set(recorder.statusSnapshot().filter((s) => s.state === 'recording').length);
      },
    });
    new Gauge({
      name: 'heldar_camera_owner',
      help: '1 per camera this node records: holds the lease of (cluster), or every camera (single node)',
      labelNames: ['camera', 'node'] as const,
      registers,
      collect() {
        this.reset();
        const owned = leases.clustered
          ? leases.heldCameras()
          : recorder.statusSnapshot().map((s) => s.cameraId);
        for (const camera of owned) this.set({ camera, node: config.nodeId }, 1);
      },
    });
    new Gauge({
      name: 'heldar_camera_up',
      help: '1 when the camera is recording, else 0; `state` is its recorder state',
      labelNames: ['camera', 'state'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of recorder.statusSnapshot())
          this.set({ camera: s.cameraId, state: s.state }, s.state === 'recording' ? 1 : 0);
      },
    });
    new Counter({
      name: 'heldar_camera_reconnects_total',
      help: 'Recorder restarts after the source was lost',
      labelNames: ['camera'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of recorder.statusSnapshot()) this.inc({ camera: s.cameraId }, s.reconnectCount);
      },
    });
    new Counter({
      name: 'heldar_camera_segments_written_total',
      help: 'Segments indexed for the camera',
      labelNames: ['camera'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of recorder.statusSnapshot()) this.inc({ camera: s.cameraId }, s.segmentsWritten);
      },
    });
    new Gauge({
      name: 'heldar_camera_bitrate_kbps',
      help: 'Bitrate of the last indexed segment',
      labelNames: ['camera'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of recorder.statusSnapshot())
          if (s.bitrateKbps !== null) this.set({ camera: s.cameraId }, s.bitrateKbps);
      },
    });
    new Gauge({
      name: 'heldar_camera_last_segment_age_seconds',
      help: 'Seconds since the end of the last indexed segment',
      labelNames: ['camera'] as const,
      registers,
      collect() {
        this.reset();
        const now = clock.nowMs();
        for (const s of recorder.statusSnapshot())
          if (s.lastSegmentAt)
            this.set({ camera: s.cameraId }, Math.max(0, (now - Date.parse(s.lastSegmentAt)) / 1000));
      },
    });
    new Gauge({
      name: 'heldar_sampler_fps',
      help: 'Frames per second granted to each AI frame sampler (0 when shed or down)',
      labelNames: ['camera', 'profile', 'state'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of sampler.list())
          this.set(
            { camera: s.camera_id, profile: s.stream_profile, state: s.state },
            s.state === 'sampling' ? s.fps : 0,
          );
      },
    });
    new Gauge({
      name: 'heldar_live_publishers',
      help: 'Built-in live HLS publishers running',
      registers,
      collect() {
        this.set(hls.list().length);
      },
    });
    const aggregate = (name: string, help: string, pick: (a: Aggregates) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(pick(await getAggregates()));
        },
      });
    aggregate('heldar_segments', 'Recorded segments in the index', (a) => a.segments);
    aggregate('heldar_recordings_bytes', 'Bytes of recorded segments', (a) => a.recordingsBytes);
    aggregate('heldar_ai_tasks_enabled', 'Enabled AI tasks', (a) => a.aiTasksEnabled);
    new Gauge({
      name: 'heldar_module_up',
      help: 'Sidecar health: 1 healthy, 0 unreachable or not yet probed (`health` says which)',
      labelNames: ['module', 'health'] as const,
      registers,
      async collect() {
        this.reset();
        for (const m of (await getAggregates()).modules)
          this.set({ module: m.id, health: m.health }, m.health === 'healthy' ? 1 : 0);
      },
    });
    const disk = { at: 0, value: null as { totalBytes: number; freeBytes: number } | null };
    const diskStats = async () => {
      if (clock.nowMs() - disk.at > 5_000) {
        // Before the first recording the directory may not exist yet: its data dir is on the same volume.
        disk.value =
          (await storage.diskStats(config.recordingsDirAbs).catch(() => null)) ??
          (await storage.diskStats(config.dataDirAbs).catch(() => null));
        disk.at = clock.nowMs();
      }
      return disk.value;
    };
    const diskGauge = (
      name: string,
      help: string,
      pick: (d: { totalBytes: number; freeBytes: number }) => number,
    ) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const d = await diskStats(); // unavailable: the last value stays
          if (d && d.totalBytes > 0) this.set(pick(d));
        },
      });
    diskGauge('heldar_disk_total_bytes', 'Size of the recordings volume', (d) => d.totalBytes);
    diskGauge('heldar_disk_free_bytes', 'Free bytes on the recordings volume', (d) => d.freeBytes);
    diskGauge(
      'heldar_disk_used_percent',
      'Used share of the recordings volume',
      (d) => Math.round(((d.totalBytes - d.freeBytes) / d.totalBytes) * 1000) / 10,
    );
  }
}
