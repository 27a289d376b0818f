import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import type { CameraSource } from '../cameras/camera.mapper';
import { Clock } from '../common/clock';
import { UnavailableError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';
import { buildLiveHlsArgs } from '../media/ffmpeg-args';
import { StorageAdapter } from '../media/storage.adapter';
import { ProcessSupervisor } from '../process/process-supervisor.service';
import { livePathName } from './live-token';

export type PublisherState = 'starting' | 'live' | 'offline';

export interface PublisherInfo {
  camera_id: string;
  state: PublisherState;
  started_at: string;
  last_request_at: string;
  last_error: string | null;
}

interface Publisher {
  cameraId: string;
  argsKey: string;
  dir: string;
  startedAt: string;
  lastDemandMs: number;
  state: PublisherState;
  lastError: string | null;
}

/** How long a first request waits for the playlist of a publisher that is starting (then `ready: false`). */
const READY_WAIT_MS = 4_000;
const READY_POLL_MS = 200;

/**
 * The built-in live view when no MediaMTX is configured: one supervised ffmpeg per watched camera,
 * stream-copying it into a rolling HLS playlist under `<data>/live/cam_<id>/`, started by the first
 * request and stopped after `HELDAR_LIVE_IDLE_CLOSE_SECS` without one (playlist and segment fetches
 * count as requests). Files are served by the controller, gated by a live-view token.
 */
@Injectable()
export class HlsPublisherService implements OnApplicationShutdown {
  private readonly logger = new Logger('LivePublisher');
  private readonly pubs = new Map<string, Publisher>();
  private stopped = false;

  constructor(
    private readonly supervisor: ProcessSupervisor,
    private readonly storage: StorageAdapter,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.pubs.keys()].map((id) => this.stop(id)));
  }

  dirOf(cameraId: string): string {
    return join(this.config.liveDirAbs, livePathName(cameraId));
  }

  list(): PublisherInfo[] {
    return [...this.pubs.values()].map((p) => ({
      camera_id: p.cameraId,
      state: p.state,
      started_at: p.startedAt,
      last_request_at: new Date(p.lastDemandMs).toISOString(),
      last_error: p.lastError,
    }));
  }

  /** True when a publisher runs for the camera (and counts this as a request). */
  touch(cameraId: string): boolean {
    const p = this.pubs.get(cameraId);
    if (!p) return false;
    p.lastDemandMs = this.clock.nowMs();
    return true;
  }

  /**
   * Starts (or keeps) the camera's publisher from `source` and waits, bounded, for its first
   * playlist. A changed source restarts it. Returns whether the playlist is there.
   */
  async demand(cameraId: string, source: CameraSource): Promise<boolean> {
    if (this.stopped) throw new UnavailableError('the kernel is shutting down', 'SHUTTING_DOWN');
    const dir = this.dirOf(cameraId);
    const args = buildLiveHlsArgs(source.url, dir);
    const argsKey = args.join('\u0000');
    let p = this.pubs.get(cameraId);
    if (p && p.argsKey !== argsKey) {
      await this.stop(cameraId);
      p = undefined;
    }
    if (!p) {
      if (this.pubs.size >= this.config.liveMaxPublishers) {
        throw new UnavailableError(
          `all ${this.config.liveMaxPublishers} live publishers are in use (HELDAR_LIVE_MAX_PUBLISHERS)`,
          'LIVE_PUBLISHERS_EXHAUSTED',
          5,
        );
      }
      p = await this.start(cameraId, dir, args, argsKey, source.secrets);
    }
    p.lastDemandMs = this.clock.nowMs();
    return this.waitForPlaylist(p);
  }

  private async start(
    cameraId: string,
    dir: string,
    args: string[],
    argsKey: string,
    secrets: readonly string[],
  ): Promise<Publisher> {
    const pub: Publisher = {
      cameraId,
      argsKey,
      dir,
      startedAt: this.clock.nowIso(),
      lastDemandMs: this.clock.nowMs(),
      state: 'starting',
      lastError: null,
    };
    this.pubs.set(cameraId, pub);
    await this.supervisor.replace(`live:${cameraId}`, {
      name: `live:${cameraId}`,
      command: this.config.ffmpegBin,
      redact: secrets,
      args: async () => {
        // A fresh directory each run: segment numbers restart at 0 and a stale playlist must not be served.
        await this.storage.removeDir(dir);
        await this.storage.ensureDir(dir);
        return args;
      },
      backoff: { initialMs: 1000, maxMs: 15_000, healthyAfterMs: 30_000 },
      onSpawn: () => {
        pub.state = 'starting';
      },
      onExit: (exit) => {
        if (this.pubs.get(cameraId) !== pub) return;
        pub.state = 'offline';
        pub.lastError = (exit.error ?? exit.stderrTail).trim().slice(-800) || null;
      },
    });
    this.logger.log({ cameraId }, 'live publisher started');
    return pub;
  }

  private async waitForPlaylist(p: Publisher): Promise<boolean> {
    const deadline = this.clock.nowMs() + READY_WAIT_MS;
    for (;;) {
      if (await this.storage.stat(join(p.dir, 'index.m3u8'))) {
        p.state = 'live';
        return true;
      }
      // A source that refused or failed ends the wait at once (the supervisor retries meanwhile).
      if (this.clock.nowMs() >= deadline || this.pubs.get(p.cameraId) !== p || p.state === 'offline')
        return false;
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  }

  async stop(cameraId: string): Promise<void> {
    const p = this.pubs.get(cameraId);
    if (!p) return;
    this.pubs.delete(cameraId);
    await this.supervisor.stop(`live:${cameraId}`);
    await this.storage.removeDir(p.dir).catch(() => undefined);
    this.logger.log({ cameraId }, 'live publisher stopped');
  }

  /** Stops publishers nobody requested for `HELDAR_LIVE_IDLE_CLOSE_SECS`. Returns the stopped ids. */
  async reapIdle(): Promise<string[]> {
    const cutoff = this.clock.nowMs() - this.config.liveIdleCloseSecs * 1000;
    const idle = [...this.pubs.values()].filter((p) => p.lastDemandMs < cutoff).map((p) => p.cameraId);
    for (const id of idle) await this.stop(id);
    return idle;
  }

  /** The current args key of a running publisher (to detect a changed source). */
  argsKeyOf(cameraId: string): string | null {
    return this.pubs.get(cameraId)?.argsKey ?? null;
  }

  /** What a publisher for `url` would run as (compared with `argsKeyOf`). */
  argsKeyFor(cameraId: string, url: string): string {
    return buildLiveHlsArgs(url, this.dirOf(cameraId)).join('\u0000');
  }
}
