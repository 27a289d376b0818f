import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

/**
 * Background loops (indexer, health, retention …): registered by name in the SchedulerRegistry,
 * never overlapping (a tick still running makes the next one skip), and a failing tick is logged
 * while the loop keeps going.
 */
@Injectable()
export class Loops implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Loops');
  private readonly running = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly registry: SchedulerRegistry) {}

  start(name: string, intervalMs: number, tick: () => Promise<void>): void {
    const run = () => {
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
    this.registry.addInterval(name, setInterval(run, intervalMs));
    setImmediate(run);
  }

  /** Stop a loop and wait for its current tick. */
  async stop(name: string): Promise<void> {
    if (this.registry.doesExist('interval', name)) this.registry.deleteInterval(name);
    await this.inFlight.get(name);
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const name of this.registry.getIntervals()) this.registry.deleteInterval(name);
    await Promise.all(this.inFlight.values());
  }
}
