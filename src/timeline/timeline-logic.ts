/** Pure timeline rules: segment closedness and times, merged ranges, holes and their causes. */
import { CAUSE_TOLERANCE_MS, type GapCause, type RecordingStop } from '../common/gap-cause';
import { isDayDir, parseSegmentName } from '../recorder/recording-layout';

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

/** ffmpeg names a file by the wall-clock second it opens it: it opened it before this much after
 * the name's instant, and the media in it starts no later than that. */
export const NAME_RESOLUTION_MS = 1000;

/**
 * Segment times come from the media, not the name: ffmpeg names a file when it opens it, and the
 * first segment of a run holds ~2 s of media buffered before that. A finished file's last write
 * (mtime) is the end of its media, so start = mtime − duration.
 *
 * Except when the file was written late: a recorder paused while it held the file open (its
 * machine frozen, the process group stopped) writes the rest of it when it runs again, so the
 * mtime is the resume time, not the end of the media. The media starts no later than the file was
 * opened (its `name`, to the second), so a start later than that is bounded by it and the end
 * follows from the duration: the footage stays where it was filmed instead of moving to the
 * moment its writer woke up (where another node may have recorded the camera meanwhile).
 */
export function segmentTimes(
  mtimeMs: number,
  durationS: number,
  name?: string,
): { startMs: number; endMs: number } {
  const durationMs = Math.round(durationS * 1000);
  const endMs = Math.round(mtimeMs);
  const openedMs = name === undefined ? null : parseSegmentName(name);
  const latest = openedMs === null ? Infinity : openedMs + NAME_RESOLUTION_MS;
  if (endMs - durationMs <= latest) return { startMs: endMs - durationMs, endMs };
  return { startMs: latest, endMs: latest + durationMs };
}

/**
 * Whether a segment file was opened by a recorder whose node no longer held the camera's lease:
 * opened (its name, to the second) at or after `leaseEndedMs`, the wall-clock instant from which
 * the node could not prove its lease any more (null: it holds the lease, or never lost it). A file
 * opened in the second of that instant counts as opened before (the fence margin covers it).
 */
export function writtenWithoutLease(name: string, leaseEndedMs: number | null): boolean {
  if (leaseEndedMs === null) return false;
  const openedMs = parseSegmentName(name);
  return openedMs !== null && openedMs >= leaseEndedMs;
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

/** A gap the indexer recorded, with the cause it found then. */
export interface RecordedGap extends Span {
  cause: GapCause;
}

/**
 * The cause of each hole (ascending, not overlapping): the first recorded gap (by start) that
 * overlaps it, else the first recording stop (by time) around its start (as the recorder's
 * `deriveGapCause`), else `unknown`. One walk over the three lists, each read once for the whole
 * window (asking per hole cost a query per hole and a scan of every recorded gap per hole).
 */
export function holeCauses(
  holes: readonly Span[],
  recordedGaps: readonly RecordedGap[],
  stops: readonly RecordingStop[],
): GapCause[] {
  const recorded = [...recordedGaps].sort((a, b) => a.startMs - b.startMs);
  const ended = [...stops].sort((a, b) => a.atMs - b.atMs);
  const out: GapCause[] = [];
  let g = 0;
  let r = 0;
  for (const h of holes) {
    // A recorded gap that ends by this hole's start ends before every later hole's too.
    while (g < recorded.length && recorded[g].endMs <= h.startMs) g++;
    if (g < recorded.length && recorded[g].startMs < h.endMs) {
      out.push(recorded[g].cause);
      continue;
    }
    while (r < ended.length && ended[r].atMs < h.startMs - CAUSE_TOLERANCE_MS) r++;
    out.push(r < ended.length && ended[r].atMs <= h.endMs ? ended[r].cause : 'unknown');
  }
  return out;
}

/**
 * Stored coverage. Recorded ranges are kept per camera in one-hour buckets (by segment start):
 * each piece is a run of the bucket's segments merged like `mergeRanges` (holes ≤ 2 s joined),
 * with how many segments it holds. Merging the pieces of consecutive buckets again gives exactly
 * the ranges of all their segments, a change to one segment only ever rewrites its own bucket,
 * and a window's edge buckets can be read from the segments themselves (so answers and counts
 * stay exact while the middle of a 30-day window is ~720 rows instead of 43,200).
 */
export const COVERAGE_BUCKET_MS = 3_600_000;
/** Holes of this much or less inside a range are joined (the timeline's rule). */
export const COVERAGE_JOIN_MS = 2000;

export const bucketOf = (ms: number): number => Math.floor(ms / COVERAGE_BUCKET_MS) * COVERAGE_BUCKET_MS;

export interface CoveragePiece extends Span {
  /** Segments in the piece. */
  count: number;
  /** Start of its last segment (by start): an insert at or after it appends. */
  lastStartMs: number;
}

/** The pieces of one bucket's segments (ascending by start). */
export function coveragePieces(segments: Span[], joinMs = COVERAGE_JOIN_MS): CoveragePiece[] {
  const out: CoveragePiece[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && s.startMs - last.endMs <= joinMs) {
      last.endMs = Math.max(last.endMs, s.endMs);
      last.count++;
      last.lastStartMs = s.startMs;
    } else out.push({ startMs: s.startMs, endMs: s.endMs, count: 1, lastStartMs: s.startMs });
  }
  return out;
}

export type CoverageStep =
  { kind: 'open'; piece: CoveragePiece } | { kind: 'extend'; piece: CoveragePiece } | { kind: 'rebuild' };

/**
 * What a new segment does to its bucket whose last piece is `last` (null: the bucket is empty):
 * a segment starting at or after every other one extends the last piece or opens a new one; one
 * landing earlier (out of order) makes the bucket be merged again from its segments.
 */
export function coverageInsert(last: CoveragePiece | null, s: Span, joinMs = COVERAGE_JOIN_MS): CoverageStep {
  if (!last) return { kind: 'open', piece: { ...s, count: 1, lastStartMs: s.startMs } };
  if (s.startMs < last.lastStartMs) return { kind: 'rebuild' };
  if (s.startMs - last.endMs <= joinMs) {
    return {
      kind: 'extend',
      piece: { ...last, endMs: Math.max(last.endMs, s.endMs), count: last.count + 1, lastStartMs: s.startMs },
    };
  }
  return { kind: 'open', piece: { ...s, count: 1, lastStartMs: s.startMs } };
}

/**
 * How a window [from, to] is read: the whole buckets in [wholeFrom, wholeTo) from the stored
 * pieces (every segment starting there lies in the window), the segments starting before
 * wholeFrom (at most an hour before `from`) or from wholeTo on straight from the segments.
 * Null when no whole bucket lies inside (a short window: read its segments).
 */
export function coverageWindow(
  fromMs: number,
  toMs: number,
): { wholeFromMs: number; wholeToMs: number } | null {
  const wholeFromMs = Math.ceil(fromMs / COVERAGE_BUCKET_MS) * COVERAGE_BUCKET_MS;
  const wholeToMs = bucketOf(toMs);
  return wholeFromMs < wholeToMs ? { wholeFromMs, wholeToMs } : null;
}

/**
 * The reconciliation diff of one day folder: the segment files on disk (any order) that no row
 * names, ascending. `indexed` holds the names (not paths) of the day's rows.
 */
export function unindexedNames(onDisk: readonly string[], indexed: { has(name: string): boolean }): string[] {
  return onDisk.filter((n) => parseSegmentName(n) !== null && !indexed.has(n)).sort();
}

/** What to do with a file of the old flat layout (`<camera>/<name>`) found at boot. */
export type FlatMove =
  /** its row already names the flat path: point the row at the day folder, then rename */
  | 'update_row_then_rename'
  /** its row already names the day path (a crash between the two steps): just rename */
  | 'rename'
  /** no row: rename; the day folder's pass indexes it */
  | 'rename_unindexed'
  /** the day folder already holds a file of that name: leave it, say so */
  | 'conflict';

export function planFlatMove(s: { flatRow: boolean; dayRow: boolean; dayFileExists: boolean }): FlatMove {
  if (s.dayFileExists) return 'conflict';
  if (s.flatRow) return 'update_row_then_rename';
  return s.dayRow ? 'rename' : 'rename_unindexed';
}

/**
 * The node a segment row is written with: the node whose disk holds the file. Null on a single
 * SQLite node and with shared storage (every node reads every file); each node's reconciliation
 * and retention then touch only rows with its own id.
 */
export function segmentNode(c: { isSqlite: boolean; storageShared: boolean; nodeId: string }): string | null {
  return c.isSqlite || c.storageShared ? null : c.nodeId;
}

/** A day folder modified this recently is listed again by the next pass even when fully indexed: a
 * file created in the same tick of the filesystem's clock as our `stat` would not change its mtime. */
export const DAY_SETTLE_MS = 2000;

/** What the last full pass saw of a day folder (see IndexedDayEntity). */
export interface DayState {
  mtimeMs: number;
  files: number;
}

/** A day folder whose mtime is the one the last full pass recorded: nothing was added, removed or
 * renamed in it since, so it need not be listed. */
export function dayUnchanged(saved: DayState | undefined, mtimeMs: number | null): boolean {
  return saved !== undefined && mtimeMs !== null && saved.mtimeMs === mtimeMs;
}

/**
 * Whether a pass may record a day folder as fully seen: its mtime (read before listing it) is
 * settled, and every recording file (`*.mp4`) listed in it is a segment with a row.
 */
export function mayRecordDay(s: {
  mtimeMs: number | null;
  statAtMs: number;
  mp4Files: number;
  segmentFiles: number;
  indexedFiles: number;
}): boolean {
  return (
    s.mtimeMs !== null &&
    s.statAtMs - s.mtimeMs >= DAY_SETTLE_MS &&
    s.mp4Files === s.segmentFiles &&
    s.indexedFiles === s.segmentFiles
  );
}

/** The day folder of a segment row's path (`<camera>/<day>/<name>`); null for a flat path. */
export function dayOfPath(path: string): string | null {
  const parts = path.split('/');
  return parts.length === 3 && isDayDir(parts[1]) ? parts[1] : null;
}
