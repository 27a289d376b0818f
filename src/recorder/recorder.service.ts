import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { CamerasService, type RecordTarget } from '../cameras/cameras.service';
import { isScheduledMode } from '../cameras/record-mode';
import { SchedulesService } from '../schedules/schedules.service';
import { Clock } from '../common/clock';
import { Loops } from '../common/loops';
import { CAUSE_TOLERANCE_MS, type GapCause, type RecordingStop } from '../common/gap-cause';
import { HeldarConfig } from '../config/heldar-config';
import { EventBus, type Unsubscribe } from '../events/event-bus';
import { EventsService } from '../events/events.service';
import { ModuleLifecycleService } from '../settings/module-lifecycle.service';
import { buildRecordArgs } from '../media/ffmpeg-args';
import { StorageAdapter } from '../media/storage.adapter';
import { ProcessRunner } from '../process/process-runner';
import { ProcessSupervisor } from '../process/process-supervisor.service';
import type { ProcessExitInfo, SupervisedProcess } from '../process/supervised-process';
import { parseSegmentListLine } from './recording-layout';
import type { CameraStatusEntity } from './entities/camera-status.entity';
import { deriveGapCause, type RecorderRun, runStops, type RunEndReason } from './recorder-runs';
import { type ClosedSegment, ensureDayDirs, type RecorderListener } from './recorder-listener';
import { RecorderRepository } from './recorder.repository';
import { KeyedSerialQueue } from '../common/validation';
import { CameraOwnership } from '../cluster/camera-leases.ownership';

interface ActiveRecorder {
  key: string;
  target: RecordTarget;
  proc: SupervisedProcess;
  runId: number | null;
  /** Set by stop(): the exit that follows is ours, with this reason. */
  stopReason: RunEndReason | null;
  /** Run bookkeeping (open on spawn, close on exit) is serialised per recorder. */
  book: Promise<void>;
}

/** ffmpeg's words when the output cannot be written (read-only, full, gone), not the camera's fault. */
const STORAGE_ERROR =
  /Permission denied|Read-only file system|No space left on device|Disk quota exceeded|No such file or directory|Failed to open segment/i;
const LAST_ERROR_CHARS = 800;
/** The recorder's id in the module registry (`@HeldarModule` of RecorderModule). */
export const RECORDER_MODULE_ID = 'recorder';
const PREFLIGHT_TIMEOUT_MS = 10_000;
/** On PostgreSQL (cluster) a recorder's stop is bounded at 2 s (`q`, 1 s, SIGTERM, 1 s, SIGKILL):
 * inside the 3 s by which a node fences its cameras before their leases could expire. */
const CLUSTER_STOP_TIMEOUTS = { quitMs: 1000, termMs: 1000 };
/** How often schedule windows are checked: a window that opens or closes is followed within this. */
export const SCHEDULE_CHECK_MS = 5_000;

/** Stale threshold of a recording camera: max(3 × segment, 30 s). */
export function staleThresholdMs(segmentSeconds: number): number {
  return Math.max(3 * segmentSeconds, 30) * 1000;
}

/**
 * One supervised ffmpeg per recording camera (stream copy into segments). Reconciled whenever a
 * camera is created, changed or deleted (from the event bus), never two children per camera.
 * Every exit of a recorder is a failure to supervise (ffmpeg exits 0 when a camera is lost).
 */
@Injectable()
export class RecorderService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Recorder');
  private readonly active = new Map<string, ActiveRecorder>();
  private readonly queues = new KeyedSerialQueue();
  private off?: Unsubscribe;
  private shuttingDown = false;
  private readonly listeners: RecorderListener[] = [];
  /** Why the recorder cannot run (ffmpeg missing, recordings not writable), or null. */
  private failure: string | null = null;
  /** Cameras held off by their closed schedule (recording_started is announced when one opens). */
  private readonly offSchedule = new Set<string>();
  private scheduleSubscription?: Subscription;
  private ownershipSubscription?: Subscription;

  constructor(
    private readonly cameras: CamerasService,
    private readonly supervisor: ProcessSupervisor,
    private readonly runner: ProcessRunner,
    private readonly lifecycle: ModuleLifecycleService,
    private readonly repo: RecorderRepository,
    private readonly events: EventsService,
    private readonly bus: EventBus,
    private readonly storage: StorageAdapter,
    private readonly loops: Loops,
    private readonly clock: Clock,
    private readonly schedules: SchedulesService,
    private readonly ownership: CameraOwnership,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.repo.loadMirror();
    const dangling = await this.repo.closeDanglingRuns(this.clock.nowIso(), this.runNode());
    if (dangling > 0)
      this.logger.warn(`${dangling} recorder run(s) were cut by a kernel stop without shutdown`);
    this.off = this.bus.on(
      ['camera_created', 'camera_updated', 'camera_deleted'],
      (e) => {
        if (e.cameraId) this.schedule(e.cameraId, e.eventType === 'camera_deleted' ? 'remove' : 'reconcile');
      },
      'recorder',
      // A reconcile converges on the camera's row (idempotent): a change made through any node.
      { remote: true },
    );
    if (!this.config.recorderEnabled)
      this.logger.warn('HELDAR_RECORDER_ENABLED=false: no camera is recorded');
    else await this.checkStart();
    // Every camera's row in one read, not one read per camera.
    for (const target of await this.cameras.listRecordTargets())
      this.schedule(target.id, 'reconcile', target);
    this.scheduleSubscription = this.schedules.changes$.subscribe((id) => this.schedule(id, 'reconcile'));
    // Cluster: a camera this node gained starts recording, one it lost stops (its lease decides).
    this.ownershipSubscription = this.ownership.changes$.subscribe(({ gained, lost, failover }) => {
      for (const id of failover) this.schedule(id, 'failover');
      for (const id of [...lost, ...gained]) this.schedule(id, 'reconcile');
    });
    this.loops.start('recorder_health', this.config.healthIntervalS * 1000, () => this.checkHealth());
    this.loops.start('recorder_schedules', SCHEDULE_CHECK_MS, () => this.checkSchedules());
    // Tomorrow's day folders exist long before midnight (checked every 10 minutes).
    this.loops.start('recorder_days', 600_000, () => this.prepareDayDirs());
  }

  /**
   * Why the recorder cannot start, or null: ffmpeg must run (`-version`) and the recordings
   * directory must take a file. Never throws.
   */
  async startProblem(): Promise<string | null> {
    const dir = this.config.recordingsDirAbs;
    const probe = join(dir, '.heldar-write-check');
    try {
      await this.storage.ensureDir(dir);
      await this.storage.writeText(probe, '');
      await this.storage.remove(probe);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return `the recordings directory ${dir} is not writable (${code})`;
    }
    const bin = this.config.ffmpegBin;
    try {
      const r = await this.runner.runToCompletion(bin, ['-hide_banner', '-version'], {
        timeoutMs: PREFLIGHT_TIMEOUT_MS,
        maxOutputBytes: 4096,
      });
      if (r.code !== 0) return `ffmpeg (${bin}) does not run: \`-version\` ended with ${r.code ?? r.signal}`;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return `ffmpeg (${bin}) cannot be started (${code})`;
    }
    return null;
  }

  /**
   * Run the start check and record the outcome in the module registry (`failed` with the reason,
   * or `running` again). While failed no recorder is spawned; every camera that should record
   * shows the reason. On recovery every camera is reconciled. Returns whether the recorder can run.
   */
  async checkStart(): Promise<boolean> {
    const problem = await this.startProblem();
    if (problem === this.failure) return problem === null;
    const recovered = this.failure !== null;
    this.failure = problem;
    if (problem) this.logger.error({ reason: problem }, 'the recorder cannot start; no camera is recorded');
    else this.logger.log('the recorder can start again');
    await this.lifecycle.report(RECORDER_MODULE_ID, problem ? 'failed' : 'running', problem);
    if (recovered && !problem) {
      for (const target of await this.cameras.listRecordTargets())
        this.schedule(target.id, 'reconcile', target);
    }
    return problem === null;
  }

  /** Who hears of each closed segment and each recorder exit (the indexer). */
  listen(listener: RecorderListener): void {
    this.listeners.push(listener);
  }

  /** Today's and tomorrow's folder for every camera being recorded. */
  async prepareDayDirs(): Promise<void> {
    const nowMs = this.clock.nowMs();
    for (const cameraId of this.active.keys()) {
      await ensureDayDirs(this.storage, join(this.config.recordingsDirAbs, cameraId), nowMs).catch(
        (err: unknown) => this.logger.warn({ err, cameraId }, 'could not prepare day folders'),
      );
    }
  }

  private notify(fn: (l: RecorderListener) => void): void {
    for (const l of this.listeners) {
      try {
        fn(l);
      } catch (err) {
        this.logger.error({ err }, 'recorder listener failed');
      }
    }
  }

  private onSegmentListLine(cameraId: string, line: string): void {
    const entry = parseSegmentListLine(line);
    if (!entry) return;
    const s: ClosedSegment = { cameraId, name: entry.name, reportedAtMs: this.clock.nowMs() };
    this.notify((l) => l.segmentClosed(s));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.scheduleSubscription?.unsubscribe();
    this.ownershipSubscription?.unsubscribe();
    this.shuttingDown = true;
    this.off?.();
    await this.loops.stop('recorder_health');
    await this.loops.stop('recorder_days');
    await this.loops.stop('recorder_schedules');
    await this.queues.settled();
    await Promise.all([...this.active.keys()].map((id) => this.stop(id, 'server_stop')));
    // Cluster: recorders stopped, now the leases go, so the other nodes take the cameras at once.
    await this.ownership.releaseAll();
  }

  /** The node a recorder run is written with: this one on PostgreSQL, none on a single SQLite node. */
  private runNode(): string | null {
    return this.config.isSqlite ? null : this.config.nodeId;
  }

  /** Per-camera serialisation of reconcile/remove; a failure is logged, never thrown. */
  private schedule(
    cameraId: string,
    action: 'reconcile' | 'remove' | 'failover',
    target?: RecordTarget,
  ): void {
    if (this.shuttingDown) return;
    void this.queues
      .run(cameraId, () =>
        action === 'reconcile'
          ? this.reconcile(cameraId, target)
          : action === 'remove'
            ? this.remove(cameraId)
            : this.markFailover(cameraId),
      )
      .catch((err: unknown) => this.logger.error({ err, cameraId }, `recorder ${action} failed`));
  }

  /** Wait until every queued reconcile has run (tests, shutdown). */
  async settled(): Promise<void> {
    // A camera change first goes through a lease round (PostgreSQL), which schedules what it gained.
    await this.ownership.settled();
    await this.queues.settled();
  }

  /** Bring one camera's recorder in line with its row (`known`: that row, just read). */
  async reconcile(cameraId: string, known?: RecordTarget): Promise<void> {
    const now = () => this.clock.nowIso();
    const target = known ?? (await this.cameras.getRecordTarget(cameraId));
    if (!target) return this.remove(cameraId);
    const should = this.config.recorderEnabled && target.enabled && target.recordEnabled;
    if (should && !this.ownership.owns(cameraId)) {
      // Cluster: another node records it (or nobody yet); its status is the owner's to write.
      this.offSchedule.delete(cameraId);
      return this.stop(cameraId, 'lease_lost');
    }
    if (should && isScheduledMode(target.recordMode)) {
      if (!this.schedules.isOpen(cameraId, target.timezone, this.clock.nowMs()))
        return this.holdOff(cameraId);
      if (this.offSchedule.delete(cameraId))
        await this.events.emit({
          type: 'recording_started',
          cameraId,
          payload: { reason: 'schedule', mode: target.recordMode },
        });
    } else this.offSchedule.delete(cameraId);
    if (!should) {
      await this.stop(cameraId, 'stopped');
      // Already recorded as disabled (a restart with recording off): nothing to write.
      const status = this.repo.mirroredStatus(cameraId);
      if (status?.state !== 'disabled' || status.pid !== null)
        await this.repo.setState(cameraId, 'disabled', now(), { pid: null });
      return;
    }
    if (this.failure !== null) {
      await this.stop(cameraId, 'stopped');
      const lastError = `the recorder cannot start: ${this.failure}`;
      const status = this.repo.mirroredStatus(cameraId);
      if (status?.state !== 'error' || status.lastError !== lastError)
        await this.repo.setState(cameraId, 'error', now(), { pid: null, lastError });
      return;
    }
    if (!target.recordUrl) {
      await this.stop(cameraId, 'stopped');
      const reason =
        target.credentialsError ??
        'no stream URL: set main_stream_url, an address with a vendor template, or url_template';
      await this.repo.setState(cameraId, 'error', now(), { pid: null, lastError: reason });
      await this.events.emit({
        type: 'recorder_error',
        severity: 'warning',
        cameraId,
        payload: { reason: target.credentialsError ? 'credentials_unreadable' : 'no_url', detail: reason },
      });
      return;
    }
    const current = this.active.get(cameraId);
    if (current && sameRecording(current.target, target)) {
      current.target = target;
      return;
    }
    if (current) await this.stop(cameraId, 'stopped');
    await this.start(target);
  }

  /**
   * This node took the camera from another node's EXPIRED lease: that node died or was cut off, and
   * its recorder run (left open, or ended when it was fenced) is closed here as a failover, so the
   * hole up to this node's first segment gets the cause `node_failover`.
   */
  private async markFailover(cameraId: string): Promise<void> {
    if (this.active.has(cameraId)) return;
    await this.repo.markFailover(cameraId, this.clock.nowIso(), this.runNode());
  }

  /** The camera's schedule is closed: stop its recorder (the hole is `not_scheduled`) and wait. */
  private async holdOff(cameraId: string): Promise<void> {
    const wasRecording = this.active.has(cameraId);
    await this.stop(cameraId, 'not_scheduled');
    const status = this.repo.mirroredStatus(cameraId);
    if (status?.state !== 'idle' || status.pid !== null)
      await this.repo.setState(cameraId, 'idle', this.clock.nowIso(), { pid: null });
    this.offSchedule.add(cameraId);
    if (wasRecording)
      await this.events.emit({ type: 'recording_stopped', cameraId, payload: { reason: 'schedule' } });
  }

  /**
   * Every few seconds: cameras whose schedule opened or closed since the last check are
   * reconciled. Reads each scheduled camera's mode and zone (no credential opened); the windows
   * themselves are in memory.
   */
  async checkSchedules(): Promise<void> {
    if (!this.config.recorderEnabled || this.shuttingDown) return;
    const nowMs = this.clock.nowMs();
    const scheduled = (await this.cameras.listPolicies()).filter(
      (c) => c.enabled && c.recordEnabled && isScheduledMode(c.recordMode),
    );
    for (const { id, timezone } of scheduled) {
      const open = this.schedules.isOpen(id, timezone, nowMs);
      if (open === this.offSchedule.has(id)) this.schedule(id, 'reconcile');
    }
    // A camera that left the scheduled modes is reconciled by its camera_updated event.
  }

  private async start(target: RecordTarget): Promise<void> {
    const cameraId = target.id;
    const dir = join(this.config.recordingsDirAbs, cameraId);
    const key = `recorder:${cameraId}`;
    await this.repo.setState(cameraId, 'connecting', this.clock.nowIso(), { pid: null });
    const entry: ActiveRecorder = {
      key,
      target,
      proc: undefined as never,
      runId: null,
      stopReason: null,
      book: Promise.resolve(),
    };
    const book = (fn: () => Promise<void>) => {
      entry.book = entry.book
        .then(fn)
        .catch((err: unknown) => this.logger.error({ err, cameraId }, 'recorder bookkeeping failed'));
    };
    entry.proc = this.supervisor.ensure(key, {
      name: key,
      command: this.config.ffmpegBin,
      env: { ...process.env, TZ: 'UTC' },
      // The password may sit in the URL's path or query: stderr, last_error and events never show it.
      redact: target.secrets,
      args: async () => {
        await ensureDayDirs(this.storage, dir, this.clock.nowMs());
        return buildRecordArgs(
          { url: target.recordUrl!, recordAudio: target.recordAudio, segmentSeconds: target.segmentSeconds },
          dir,
        );
      },
      onSpawn: (pid) => book(() => this.onSpawn(entry, pid)),
      onExit: (info) => {
        book(() => this.onExit(entry, info));
        const atMs = this.clock.nowMs();
        this.notify((l) => l.recorderExited(cameraId, atMs));
      },
      onStdoutLine: (line) => this.onSegmentListLine(cameraId, line),
      // Cluster: a recorder fenced out of its lease must be gone within the fence margin (3 s).
      ...(this.config.isSqlite ? {} : { stopTimeouts: CLUSTER_STOP_TIMEOUTS }),
    });
    this.active.set(cameraId, entry);
  }

  private async onSpawn(entry: ActiveRecorder, pid: number): Promise<void> {
    const now = this.clock.nowIso();
    entry.runId = await this.repo.openRun(entry.target.id, now, this.runNode());
    await this.repo.setState(entry.target.id, 'connecting', now, { pid, lastStartedAt: now });
  }

  private async onExit(entry: ActiveRecorder, info: ProcessExitInfo): Promise<void> {
    const cameraId = entry.target.id;
    const detail = (info.error ?? info.stderrTail).trim().slice(-LAST_ERROR_CHARS) || null;
    if (entry.stopReason) {
      if (entry.runId !== null) await this.repo.closeRun(entry.runId, info.at, entry.stopReason, detail);
      entry.runId = null;
      return;
    }
    const storage = info.error !== undefined || STORAGE_ERROR.test(info.stderrTail);
    // For a storage failure the telling line, not whatever ffmpeg printed last.
    const storageLine = storage
      ? info.stderrTail
          .split('\n')
          .reverse()
          .find((l) => STORAGE_ERROR.test(l))
      : undefined;
    const shown = storageLine?.trim().slice(-LAST_ERROR_CHARS) ?? detail;
    const reason: RunEndReason = storage ? 'storage_error' : 'source_lost';
    if (entry.runId !== null) await this.repo.closeRun(entry.runId, info.at, reason, shown);
    entry.runId = null;
    await this.repo.bumpReconnect(cameraId, shown, this.clock.nowIso());
    const payload = {
      ran_seconds: Math.round(info.runtimeMs / 100) / 10,
      exit_code: info.code,
      restart_in_seconds: info.restartInMs === null ? null : info.restartInMs / 1000,
      detail: shown,
    };
    if (storage) {
      await this.repo.setState(cameraId, 'error', this.clock.nowIso());
      await this.events.emit({ type: 'storage_error', severity: 'critical', cameraId, payload });
    } else {
      await this.events.emit({ type: 'camera_offline', severity: 'warning', cameraId, payload });
    }
  }

  /** Stop a camera's recorder (graceful: `q`, then signals) and close its run with `reason`. */
  private async stop(cameraId: string, reason: RunEndReason): Promise<void> {
    const entry = this.active.get(cameraId);
    if (!entry) return;
    entry.stopReason = reason;
    await this.supervisor.stop(entry.key);
    await entry.book;
    if (entry.runId !== null) {
      await this.repo.closeRun(entry.runId, this.clock.nowIso(), reason, null);
      entry.runId = null;
    }
    this.active.delete(cameraId);
  }

  /** Camera deleted: stop, forget its status and runs, remove its recordings directory. */
  private async remove(cameraId: string): Promise<void> {
    await this.stop(cameraId, 'stopped');
    await this.repo.deleteCamera(cameraId);
    await this.storage.removeDir(join(this.config.recordingsDirAbs, cameraId));
  }

  /** Called by the indexer for new segments (`count` of them, `s` the newest): the camera is recording. */
  async onSegmentIndexed(
    cameraId: string,
    s: { endIso: string; sizeBytes: number; durationS: number; fps: number | null },
    count = 1,
  ): Promise<void> {
    const bitrateKbps = s.durationS > 0 ? Math.round((s.sizeBytes * 8) / s.durationS / 10) / 100 : null;
    await this.repo.segmentIndexed(
      cameraId,
      { endIso: s.endIso, bitrateKbps, fps: s.fps, markRecording: this.active.has(cameraId), count },
      this.clock.nowIso(),
    );
  }

  /** Why footage is missing between `startMs` and `endMs` (from the recorder runs that ended then). */
  async explainGap(cameraId: string, startMs: number, endMs: number): Promise<GapCause> {
    return deriveGapCause({ startMs, endMs }, await this.runsEnded(cameraId, startMs, endMs));
  }

  /** Where the camera's recording stopped, and why, in [startMs − tolerance, endMs] (ascending):
   * what explains the holes of that window, read once for all of them (see `holeCauses`). */
  async stopsBetween(cameraId: string, startMs: number, endMs: number): Promise<RecordingStop[]> {
    return runStops(await this.runsEnded(cameraId, startMs, endMs));
  }

  /** The camera's recorder runs that ended in [startMs − tolerance, endMs]. */
  private async runsEnded(cameraId: string, startMs: number, endMs: number): Promise<RecorderRun[]> {
    const runs = await this.repo.runsEndedBetween(
      cameraId,
      new Date(startMs - CAUSE_TOLERANCE_MS).toISOString(),
      new Date(endMs).toISOString(),
    );
    return runs.map((r) => ({
      startedAtMs: Date.parse(r.startedAt),
      endedAtMs: r.endedAt ? Date.parse(r.endedAt) : null,
      endReason: r.endReason,
    }));
  }

  getStatus(cameraId: string): Promise<CameraStatusEntity | null> {
    return this.repo.getStatus(cameraId);
  }

  listStatuses(ids?: readonly string[]): Promise<CameraStatusEntity[]> {
    return this.repo.getStatuses(ids);
  }

  /** Every camera's status from memory (kept in step with each write): for metrics and readiness. */
  statusSnapshot(): CameraStatusEntity[] {
    return this.repo.mirrored();
  }

  /** A camera "recording" with no new segment for max(3 × segment, 30 s) goes to `error`. */
  async checkHealth(): Promise<void> {
    if (this.failure !== null && !(await this.checkStart())) return;
    const nowMs = this.clock.nowMs();
    const statuses = await this.repo.getStatuses([...this.active.keys()]);
    for (const st of statuses) {
      const entry = this.active.get(st.cameraId);
      if (!entry || st.state !== 'recording') continue;
      const threshold = staleThresholdMs(entry.target.segmentSeconds);
      const last = Math.max(
        st.lastSegmentAt ? Date.parse(st.lastSegmentAt) : 0,
        st.lastStartedAt ? Date.parse(st.lastStartedAt) : 0,
      );
      if (nowMs - last <= threshold) continue;
      const age = Math.round((nowMs - last) / 1000);
      await this.repo.setState(st.cameraId, 'error', this.clock.nowIso(), {
        lastError: `no segments for ${age} s while recording`,
      });
      await this.events.emit({
        type: 'recorder_error',
        severity: 'warning',
        cameraId: st.cameraId,
        payload: { reason: 'stale', threshold_seconds: threshold / 1000, last_segment_age_s: age },
      });
      // A recorder that writes nothing is hung on its source (connected but silent): restart it
      // rather than wait for ffmpeg's own socket timeout. Its exit is supervised as a lost source.
      entry.proc.kick();
    }
  }
}

function sameRecording(a: RecordTarget, b: RecordTarget): boolean {
  return (
    a.recordUrl === b.recordUrl && a.recordAudio === b.recordAudio && a.segmentSeconds === b.segmentSeconds
  );
}
