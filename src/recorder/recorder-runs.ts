/** The recorder's run vocabulary: why a run ended, and what that says about the hole it left. */
import { CAUSE_TOLERANCE_MS, type GapCause, type RecordingStop } from '../common/gap-cause';

export type RunEndReason =
  | 'source_lost'
  | 'stopped'
  | 'server_stop'
  | 'server_down'
  | 'storage_error'
  | 'not_scheduled'
  /** Cluster: this node could no longer prove its lease (paused, cut off) and stopped. */
  | 'lease_lost'
  /** Cluster: another node took the camera from this run's node's expired lease. */
  | 'node_failover';

export interface RecorderRun {
  startedAtMs: number;
  endedAtMs: number | null;
  endReason: RunEndReason | null;
}

const CAUSE: Record<RunEndReason, GapCause> = {
  source_lost: 'camera_offline',
  stopped: 'recorder_stopped',
  server_stop: 'server_down',
  server_down: 'server_down',
  storage_error: 'storage_error',
  not_scheduled: 'not_scheduled',
  lease_lost: 'node_failover',
  node_failover: 'node_failover',
};

/** The stops of the runs that ended with a reason (ascending by time): what the timeline is given. */
export function runStops(runs: readonly RecorderRun[]): RecordingStop[] {
  return runs
    .filter(
      (r): r is RecorderRun & { endedAtMs: number; endReason: RunEndReason } =>
        r.endedAtMs !== null && r.endReason !== null,
    )
    .map((r) => ({ atMs: r.endedAtMs, cause: CAUSE[r.endReason] }))
    .sort((a, b) => a.atMs - b.atMs);
}

/**
 * Why footage is missing between two segments: the first recorder run that ended around the
 * start of the hole says what happened (camera lost, recorder stopped, kernel down, storage).
 */
export function deriveGapCause(
  gap: { startMs: number; endMs: number },
  runs: readonly RecorderRun[],
): GapCause {
  const stop = runStops(runs).find((s) => s.atMs >= gap.startMs - CAUSE_TOLERANCE_MS && s.atMs <= gap.endMs);
  return stop?.cause ?? 'unknown';
}
