/**
 * Event recording, pure: keep windows opened and extended by triggers, and which segments a
 * window keeps. A segment is kept whole when any window overlaps it, so kept footage starts at
 * most one segment before `trigger − pre_roll` and ends at most one segment after
 * `trigger + post_roll`.
 */

export interface Window {
  startMs: number;
  endMs: number;
}

/** The window a trigger at `atMs` asks for. */
export function triggerWindow(atMs: number, preRollS: number, postRollS: number): Window {
  return { startMs: atMs - preRollS * 1000, endMs: atMs + postRollS * 1000 };
}

/** `current` extended by `asked` when they overlap or touch (windows only grow), else null. */
export function extendWindow(current: Window, asked: Window): Window | null {
  if (asked.startMs > current.endMs || asked.endMs < current.startMs) return null;
  return { startMs: Math.min(current.startMs, asked.startMs), endMs: Math.max(current.endMs, asked.endMs) };
}

/**
 * How long after a segment ends no trigger can still reach it: a trigger at `t ≥ now` keeps from
 * `t − pre_roll`; a trigger reported late (a worker's detection, the network) is allowed `marginS`.
 * A segment ending before `now − horizon` can be decided.
 */
export function decisionHorizonMs(preRollS: number, segmentS: number, marginS: number): number {
  return (preRollS + segmentS + marginS) * 1000;
}

/** For each segment (ascending), the window that keeps it (index into `windows`), or -1. */
export function keptBy(
  segments: ReadonlyArray<{ startMs: number; endMs: number }>,
  windows: readonly Window[],
): number[] {
  return segments.map((s) => windows.findIndex((w) => w.startMs < s.endMs && w.endMs > s.startMs));
}
