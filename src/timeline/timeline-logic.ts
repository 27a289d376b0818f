/** Pure timeline rules: segment closedness and times, merged ranges, holes and their causes. */

const NAME = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})Z?\.mp4$/;

/** `20261122_101500.mp4` (UTC) → epoch ms; null when the name is not a segment name. */
export function parseSegmentName(name: string): number | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  return back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && mi < 60 && s < 61 ? ms : null;
}

/** Grace after a segment's nominal length before a last file counts as finished. */
export const CLOSE_GRACE_MS = 15_000;

/** A file is complete when a later file exists, or when it has been untouched for its camera's
 * own segment length + 15 s (the recorder stopped or died while writing it). */
export function isSegmentClosed(f: {
  hasLaterSibling: boolean;
  mtimeMs: number;
  nowMs: number;
  segmentSeconds: number;
}): boolean {
  return f.hasLaterSibling || f.nowMs - f.mtimeMs >= f.segmentSeconds * 1000 + CLOSE_GRACE_MS;
}

/**
 * Segment times come from the media, not the name: ffmpeg names a file when it opens it, and the
 * first segment of a run holds ~2 s of media buffered before that. A finished file's last write
 * (mtime) is the end of its media, so start = mtime − duration.
 */
export function segmentTimes(mtimeMs: number, durationS: number): { startMs: number; endMs: number } {
  const endMs = Math.round(mtimeMs);
  return { startMs: endMs - Math.round(durationS * 1000), endMs };
}

export interface Span {
  startMs: number;
  endMs: number;
}

/** Merge segments (ascending by start) into contiguous ranges; a hole ≤ `joinMs` does not split. */
export function mergeRanges(segments: Span[], joinMs = 2000): Span[] {
  const out: Span[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && s.startMs - last.endMs <= joinMs) last.endMs = Math.max(last.endMs, s.endMs);
    else out.push({ startMs: s.startMs, endMs: s.endMs });
  }
  return out;
}

/** Holes longer than `minMs` in [from, to] not covered by the (ascending) segments. */
export function findHoles(segments: Span[], fromMs: number, toMs: number, minMs = 2000): Span[] {
  const holes: Span[] = [];
  let cursor = fromMs;
  for (const r of mergeRanges(segments, minMs)) {
    if (r.startMs - cursor > minMs) holes.push({ startMs: cursor, endMs: Math.min(r.startMs, toMs) });
    cursor = Math.max(cursor, r.endMs);
    if (cursor >= toMs) break;
  }
  if (toMs - cursor > minMs) holes.push({ startMs: cursor, endMs: toMs });
  return holes.filter((h) => h.endMs - h.startMs > minMs);
}

export type RunEndReason = 'source_lost' | 'stopped' | 'server_stop' | 'server_down' | 'storage_error';
export type GapCause = 'camera_offline' | 'recorder_stopped' | 'server_down' | 'storage_error' | 'unknown';

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
};

/** How far before a hole's start a recorder run may have ended and still explain it (the last
 * fragment lands a moment before ffmpeg exits). */
export const CAUSE_TOLERANCE_MS = 5_000;

/**
 * Why footage is missing between two segments: the first recorder run that ended around the
 * start of the hole says what happened (camera lost, recorder stopped, kernel down, storage).
 */
export function deriveGapCause(gap: Span, runs: RecorderRun[]): GapCause {
  const ended = runs
    .filter(
      (r): r is RecorderRun & { endedAtMs: number; endReason: RunEndReason } =>
        r.endedAtMs !== null &&
        r.endReason !== null &&
        r.endedAtMs >= gap.startMs - CAUSE_TOLERANCE_MS &&
        r.endedAtMs <= gap.endMs,
    )
    .sort((a, b) => a.endedAtMs - b.endedAtMs);
  return ended.length > 0 ? CAUSE[ended[0].endReason] : 'unknown';
}
