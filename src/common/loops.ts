import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

/**
 * Background loops (indexer, health, retention …): registered by name in the SchedulerRegistry,
 * never overlapping (a tick still running makes the next one skip), and a failing tick is logged
 * while the loop keeps going.
 */
/** Loop names are snake_case (`recorder_health`), like event types and metric labels: they name the
 * loop in logs (`loop recorder_health tick failed`) and in the SchedulerRegistry. */
export const LOOP_NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

@Injectable()
export class Loops implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Loops');
  private readonly running = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Each started loop's timer: a run whose loop was stopped (or started anew) finds another. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly registry: SchedulerRegistry) {}

  start(name: string, intervalMs: number, tick: () => Promise<void>): void {
    if (!LOOP_NAME.test(name)) throw new Error(`loop name \`${name}\` is not snake_case`);
    if (this.closed) return; // shutdown has begun: nothing starts any more
    const run = () => {
      // The first run is queued (setImmediate) and may come after stop() or shutdown began,
      // when what the tick uses (the database) may be closing: a stopped loop never runs.
      if (this.closed || this.timers.get(name) !== timer) return;
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
    this.registry.addInterval(name, timer);
    setImmediate(run);
  }

  /** Stop a loop and wait for its current tick (it never runs again, its queued first run neither). */
  async stop(name: string): Promise<void> {
    this.timers.delete(name);
    if (this.registry.doesExist('interval', name)) this.registry.deleteInterval(name);
    await this.inFlight.get(name);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    this.timers.clear();
    for (const name of this.registry.getIntervals()) this.registry.deleteInterval(name);
    await Promise.all(this.inFlight.values());
  }
}
