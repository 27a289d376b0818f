import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventBus, type Unsubscribe } from '../events/event-bus';

/** A module's cleanup of what it keeps for a deleted camera (rows, caches, state). Idempotent. */
export type CameraDeletionHook = (cameraId: string) => void | Promise<void>;

/** Waits between the tries of a failing hook: 3 tries in all. */
export const CAMERA_CLEANUP_RETRY_MS: readonly number[] = [500, 2_000];

/**
 * Modules that keep data per camera register their cleanup here (`add`, at startup); the
 * deletion cascades through them once `camera_deleted` is committed, without the cameras module
 * knowing those modules or their tables. Every hook runs (one failing does not stop the others);
 * a failing hook is logged and tried again after a bounded backoff, and when its last try fails a
 * warning names the module and the camera: orphans are never left without a trace.
 */
@Injectable()
export class CameraDeletionHooks implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('CameraDeletion');
  private readonly hooks = new Map<string, CameraDeletionHook>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly stop = new AbortController();
  private off?: Unsubscribe;
  /** The waits between tries (tests shorten them). */
  retryDelaysMs: readonly number[] = CAMERA_CLEANUP_RETRY_MS;

  constructor(private readonly bus: EventBus) {}

  /** Register `module`'s cleanup (one per module). */
  add(module: string, hook: CameraDeletionHook): void {
    if (this.hooks.has(module)) throw new Error(`camera deletion hook \`${module}\` is registered twice`);
    this.hooks.set(module, hook);
  }

  /** The modules with a hook, in registration order. */
  get modules(): string[] {
    return [...this.hooks.keys()];
  }

  onApplicationBootstrap(): void {
    this.off = this.bus.on(
      'camera_deleted',
      (e) => {
        if (e.cameraId) void this.cleanUp(e.cameraId);
      },
      'camera-deletion-hooks',
      // Every node drops its caches and its own files; the row deletes are idempotent.
      { remote: true },
    );
  }

  /** Stops retrying and waits for the cleanups under way (the database must still be open). */
  async beforeApplicationShutdown(): Promise<void> {
    this.off?.();
    this.stop.abort();
    await Promise.allSettled([...this.running]);
  }

  /**
   * Run every hook for `cameraId`. Each starts at once (in this tick: the synchronous part of
   * every hook, e.g. dropping a cache, is done before this returns). Resolves with the modules
   * whose hook still failed after its last try (never rejects).
   */
  cleanUp(cameraId: string): Promise<string[]> {
    const all = Promise.all(
      [...this.hooks].map(([module, hook]) => this.runHook(module, hook, cameraId)),
    ).then((ok) => [...this.hooks.keys()].filter((_, i) => !ok[i]));
    this.running.add(all);
    void all.finally(() => this.running.delete(all));
    return all;
  }

  private async runHook(module: string, hook: CameraDeletionHook, cameraId: string): Promise<boolean> {
    const tries = this.retryDelaysMs.length + 1;
    for (let attempt = 1; ; attempt++) {
      try {
        await hook(cameraId);
        if (attempt > 1) this.logger.log({ module, cameraId, attempt }, 'camera cleanup succeeded on retry');
        return true;
      } catch (err) {
        if (attempt >= tries || this.stop.signal.aborted) {
          this.logger.warn(
            { module, cameraId, attempts: attempt, err },
            `camera cleanup of module ${module} failed ${attempt} time(s); its rows for the camera remain`,
          );
          return false;
        }
        const waitMs = this.retryDelaysMs[attempt - 1];
        this.logger.warn(
          { module, cameraId, attempt, retry_in_ms: waitMs, err },
          'camera cleanup failed; retrying',
        );
        try {
          await sleep(waitMs, undefined, { signal: this.stop.signal, ref: false });
        } catch {
          // Shutting down: one last try now rather than leave the rows.
        }
      }
    }
  }
}
