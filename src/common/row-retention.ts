import { Injectable } from '@nestjs/common';

/**
 * Which clock a kind of row expires by:
 * - `detection`: detections, outbox, zone events (`HELDAR_DETECTION_RETENTION_HOURS`);
 * - `audit`: audit log, events, deliveries, gaps, recorder runs (`HELDAR_AUDIT_RETENTION_DAYS`);
 * - `clip`: exported clips (`HELDAR_CLIP_RETENTION_HOURS`);
 * - `snapshot`: JPEGs of snapshot schedules (`HELDAR_SNAPSHOT_RETENTION_HOURS`);
 * - `expired`: rows carrying their own expiry (sessions); the cutoff is "now".
 */
export type TtlClass = 'detection' | 'audit' | 'clip' | 'snapshot' | 'expired';

export interface RowPruner {
  /** What is pruned, as reported in logs and the `retention_delete` event (`audit_log`, `events` …). */
  name: string;
  ttl: TtlClass;
  /** Remove what is older than `cutoffIso` (and its files); returns how many rows went. */
  prune(cutoffIso: string): Promise<number>;
}

/**
 * Row TTLs without the retention module reading other modules' tables: each module that owns
 * expiring rows registers a pruner for them at init; retention calls them in its sweep.
 */
@Injectable()
export class RowRetention {
  private readonly pruners: RowPruner[] = [];

  register(pruner: RowPruner): void {
    if (this.pruners.some((p) => p.name === pruner.name)) {
      throw new Error(`row pruner \`${pruner.name}\` registered twice`);
    }
    this.pruners.push(pruner);
  }

  list(): readonly RowPruner[] {
    return this.pruners;
  }
}
