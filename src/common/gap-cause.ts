/**
 * The gap-cause contract: why nothing was recorded over a stretch of a camera's timeline. The
 * recorder explains the holes its own runs left (`recorder/recorder-runs.ts`), the timeline stores
 * and answers gaps, event recording deletes footage outside keep windows (`no_event`); none of them
 * needs another's vocabulary, only this one.
 *
 * `not_scheduled`: the camera's schedule was closed; `no_event`: an event camera's footage outside
 * every keep window, deleted by design — neither is a failure.
 */
export type GapCause =
  | 'camera_offline'
  | 'recorder_stopped'
  | 'server_down'
  | 'storage_error'
  | 'not_scheduled'
  | 'no_event'
  /** Cluster: the node recording the camera died or was cut off; another took it over. */
  | 'node_failover'
  | 'unknown';

/** Causes that are the camera's configuration doing its job, not a failure. */
export const EXPECTED_GAP_CAUSES: ReadonlySet<GapCause> = new Set<GapCause>(['not_scheduled', 'no_event']);

/** A moment recording stopped for a known cause (a recorder run that ended): it explains a hole
 * that starts around then. */
export interface RecordingStop {
  atMs: number;
  cause: GapCause;
}

/** How far before a hole's start recording may have stopped and still explain it (the last
 * fragment lands a moment before ffmpeg exits). */
export const CAUSE_TOLERANCE_MS = 5_000;
