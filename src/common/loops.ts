import { type BeforeApplicationShutdown, Injectable, Logger, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Subscription } from 'rxjs';
import { Leadership } from './leadership';

/**
 * Background loops (indexer, health, retention …): registered by name in the SchedulerRegistry,
 * never overlapping (a tick still running makes the next one skip), and a failing tick is logged
 * while the loop keeps going.
 */
/** Loop names are snake_case (`recorder_health`), like event types and metric labels: they name the
 * loop in logs (`loop recorder_health tick failed`) and in the SchedulerRegistry. */
export const LOOP_NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

export interface LoopOptions {
  /**
   * `node` (default): runs on every node (its own recorders, storage, in-memory state).
   * `cluster`: a singleton of the cluster, ticks only while this node is the leader (SQLite: always);
   * a node that becomes leader runs it at once. See docs/architecture.md (Cluster) for the table.
   */
  scope?: 'node' | 'cluster';
}

@Injectable()
export class Loops implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Loops');
  private readonly running = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Each started loop's timer: a run whose loop was stopped (or started anew) finds another. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;
  /** Each cluster loop's run, started at once when this node becomes the leader. */
  private readonly clusterRuns = new Map<string, () => void>();
  private readonly leaderSub: Subscription | undefined;
  private readonly leadership: Leadership;

  constructor(
    private readonly registry: SchedulerRegistry,
    @Optional() leadership?: Leadership,
  ) {
    this.leadership = leadership ?? new Leadership();
    this.leaderSub = this.leadership.changes$.subscribe((leader) => {
      if (leader) for (const run of this.clusterRuns.values()) setImmediate(run);
    });
  }

  start(name: string, intervalMs: number, tick: () => Promise<void>, opts: LoopOptions = {}): void {
    if (!LOOP_NAME.test(name)) throw new Error(`loop name \`${name}\` is not snake_case`);
    if (this.closed) return; // shutdown has begun: nothing starts any more
    const cluster = opts.scope === 'cluster';
    const run = () => {
      // The first run is queued (setImmediate) and may come after stop() or shutdown began,
      // when what the tick uses (the database) may be closing: a stopped loop never runs.
      if (this.closed || this.timers.get(name) !== timer) return;
      if (cluster && !this.leadership.isLeader()) return; // another node runs the singleton
      if (this.running.has(name)) return;
      this.running.add(name);
      const p = tick()
        .catch((err: unknown) => this.logger.error({ err, loop: name }, `loop ${name} tick failed`))
        .finally(() => {
          this.running.delete(name);
          this.inFlight.delete(name);
        });
      this.inFlight.set(name, p);
    };
    const timer = setInterval(run, intervalMs);
    this.timers.set(name, timer);
    if (cluster) this.clusterRuns.set(name, run);
    else this.clusterRuns.delete(name);
    this.registry.addInterval(name, timer);
    setImmediate(run);
  }

  /** Stop a loop and wait for its current tick (it never runs again, its queued first run neither). */
  async stop(name: string): Promise<void> {
    this.timers.delete(name);
    this.clusterRuns.delete(name);
    if (this.registry.doesExist('interval', name)) this.registry.deleteInterval(name);
    await this.inFlight.get(name);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    this.leaderSub?.unsubscribe();
    this.timers.clear();
    this.clusterRuns.clear();
    for (const name of this.registry.getIntervals()) this.registry.deleteInterval(name);
    await Promise.all(this.inFlight.values());
  }
}
