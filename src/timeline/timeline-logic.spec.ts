import fc from 'fast-check';
import {
  bucketOf,
  COVERAGE_BUCKET_MS,
  type CoveragePiece,
  coverageInsert,
  coveragePieces,
  coverageWindow,
  dayOfPath,
  dayUnchanged,
  mayRecordDay,
  planFlatMove,
  unindexedNames,
  findHoles,
  holeCauses,
  type RecordedGap,
  isSegmentClosed,
  mergeRanges,
  segmentTimes,
  segmentNode,
  writtenWithoutLease,
} from './timeline-logic';
import type { GapCause } from '../common/gap-cause';
import { deriveGapCause, type RecorderRun, runStops } from '../recorder/recorder-runs';

const T = Date.UTC(2026, 10, 22, 10, 0, 0);
const s = (a: number, b: number) => ({ startMs: T + a * 1000, endMs: T + b * 1000 });

describe('isSegmentClosed', () => {
  const base = { hasLaterSibling: false, mtimeMs: T, segmentSeconds: 60 };
  it.each([
    [{ ...base, hasLaterSibling: true, nowMs: T }, true],
    [{ ...base, nowMs: T + 74_999 }, false],
    [{ ...base, nowMs: T + 75_000 }, true],
    [{ ...base, segmentSeconds: 2, nowMs: T + 17_000 }, true],
    [{ ...base, segmentSeconds: 2, nowMs: T + 16_000 }, false],
  ])('%j → %s', (input, expected) => {
    expect(isSegmentClosed(input)).toBe(expected);
  });
});

describe('segmentTimes', () => {
  it('ends at the last write and starts one duration earlier (the first segment is longer than its name says)', () => {
    expect(segmentTimes(T + 4500, 4.5)).toEqual({ startMs: T, endMs: T + 4500 });
  });
  const name = '20261122_100000.mp4'; // opened in the second starting at T
  it.each([
    [
      'a first segment (media buffered before the name)',
      T + 2000,
      4.5,
      { startMs: T - 2500, endMs: T + 2000 },
    ],
    ['an ordinary segment', T + 2300, 2, { startMs: T + 300, endMs: T + 2300 }],
    ['opened at the end of its second', T + 3000, 2, { startMs: T + 1000, endMs: T + 3000 }],
    // Its writer was stopped 40 s mid-file and finished it on resume: placed by its name.
    ['written late by a resumed recorder', T + 41_000, 2, { startMs: T + 1000, endMs: T + 3000 }],
    ['a file copied in later (mtime of the copy)', T + 7_200_000, 2, { startMs: T + 1000, endMs: T + 3000 }],
  ])('%s', (_what, mtimeMs, durationS, expected) => {
    expect(segmentTimes(mtimeMs, durationS, name)).toEqual(expected);
  });
  it('a name that is no segment name bounds nothing', () => {
    expect(segmentTimes(T + 41_000, 2, 'clip.mp4')).toEqual({ startMs: T + 39_000, endMs: T + 41_000 });
  });
});

describe('writtenWithoutLease', () => {
  const name = '20261122_100000.mp4'; // opened in the second starting at T
  it.each([
    ['the lease is held (or was never lost)', null, false],
    ['opened before the lease ended', T + 5000, false],
    ['opened in the second the lease ended', T + 400, false],
    ['opened after the lease ended (a recorder resumed after a pause)', T - 30_000, true],
    ['opened the instant it ended', T, true],
  ])('%s', (_what, leaseEndedMs, expected) => {
    expect(writtenWithoutLease(name, leaseEndedMs)).toBe(expected);
  });
  it('a name that is no segment name is not judged', () => {
    expect(writtenWithoutLease('notes.txt', T - 30_000)).toBe(false);
  });
});

describe('mergeRanges / findHoles', () => {
  const segs = [s(0, 2), s(2.1, 4), s(4, 6), s(10, 12), s(13.5, 14)];
  it('merges holes of up to 2 s', () => {
    expect(mergeRanges(segs)).toEqual([s(0, 6), s(10, 14)]);
  });
  it('finds the holes over 2 s inside the window, including leading and trailing ones', () => {
    expect(findHoles(segs, T - 5000, T + 20_000)).toEqual([s(-5, 0), s(6, 10), s(14, 20)]);
    expect(findHoles(segs, T + 1000, T + 13_000)).toEqual([s(6, 10)]);
    expect(findHoles([], T, T + 1000)).toEqual([]);
  });
});

describe('holeCauses', () => {
  const run = (end: number | null, endReason: RecorderRun['endReason']): RecorderRun => ({
    startedAtMs: T,
    endedAtMs: end === null ? null : T + end * 1000,
    endReason,
  });
  const gap = (a: number, b: number, cause: GapCause): RecordedGap => ({ ...s(a, b), cause });
  it.each([
    ['no holes', [], [], [run(10, 'stopped')], []],
    ['a recorded gap overlapping the hole wins over a run', [s(100, 130)], [gap(90, 110, 'storage_error')], [run(100, 'source_lost')], ['storage_error']],
    ['a recorded gap that ends at the hole start does not overlap it', [s(100, 130)], [gap(50, 100, 'storage_error')], [run(100, 'stopped')], ['recorder_stopped']],
    ['the first recorded gap by start wins', [s(100, 130)], [gap(120, 125, 'server_down'), gap(90, 200, 'camera_offline')], [], ['camera_offline']],
    ['a long recorded gap explains several holes', [s(100, 130), s(140, 150), s(300, 310)], [gap(90, 160, 'server_down')], [], ['server_down', 'server_down', 'unknown']],
    ['runs: the first to end around each start', [s(100, 130), s(200, 230)], [], [run(101, 'source_lost'), run(99.5, 'stopped'), run(205, 'server_stop')], ['recorder_stopped', 'server_down']],
    ['a run ended long before, one still going, one without a reason', [s(100, 130)], [], [run(80, 'source_lost'), run(null, null), run(101, null)], ['unknown']],
    ['a run ending after the hole does not explain it', [s(100, 130)], [], [run(131, 'stopped')], ['unknown']],
    ['one run within tolerance of two holes explains both', [s(100, 103), s(106, 130)], [], [run(102, 'source_lost')], ['camera_offline', 'camera_offline']],
  ] as Array<[string, Array<ReturnType<typeof s>>, RecordedGap[], RecorderRun[], GapCause[]]>)(
    '%s',
    (_name, holes, recorded, runs, causes) => {
      expect(holeCauses(holes, recorded, runStops(runs))).toEqual(causes);
    },
  ); // prettier-ignore

  it('answers as asking each hole on its own (first overlapping recorded gap, else deriveGapCause)', () => {
    const sec = fc.integer({ min: 0, max: 2000 });
    const span = fc.tuple(sec, fc.integer({ min: 1, max: 300 })).map(([a, len]) => s(a, a + len));
    fc.assert(
      fc.property(
        fc.array(span, { maxLength: 12 }),
        fc.array(fc.tuple(span, fc.constantFrom<GapCause>('camera_offline', 'server_down', 'storage_error')), { maxLength: 6 }),
        fc.array(fc.tuple(fc.option(sec), fc.constantFrom<RecorderRun['endReason']>('source_lost', 'stopped', 'server_stop', 'storage_error', null)), { maxLength: 12 }),
        (spans, gaps, runSpecs) => {
          // Holes as findHoles makes them: ascending, apart.
          const holes = mergeRanges([...spans].sort((a, b) => a.startMs - b.startMs), 0)
            .map((h, i, all) => ({ startMs: h.startMs, endMs: Math.min(h.endMs, (all[i + 1]?.startMs ?? Infinity) - 1) }))
            .filter((h) => h.endMs > h.startMs);
          const recorded = gaps.map(([g, cause]) => ({ ...g, cause })).sort((a, b) => a.startMs - b.startMs);
          const runs = runSpecs.map(([end, reason]) => run(end, reason));
          const perHole = holes.map(
            (h) =>
              recorded.find((g) => g.startMs < h.endMs && g.endMs > h.startMs)?.cause ??
              deriveGapCause(h, runs),
          );
          expect(holeCauses(holes, recorded, runStops(runs))).toEqual(perHole);
        },
      ),
      { numRuns: 500 },
    );
  }); // prettier-ignore
});

describe('coveragePieces / coverageInsert / coverageWindow', () => {
  const H = COVERAGE_BUCKET_MS;
  const piece = (a: number, b: number, count: number, last: number): CoveragePiece => ({
    ...s(a, b),
    count,
    lastStartMs: T + last * 1000,
  });

  it('merges one bucket like mergeRanges and counts the segments of each piece', () => {
    expect(coveragePieces([s(0, 2), s(2.1, 4), s(4, 6), s(10, 12), s(13.5, 14)])).toEqual([
      piece(0, 6, 3, 4),
      piece(10, 14, 2, 13.5),
    ]);
  });

  it.each([
    ['an empty bucket opens a piece', null, s(0, 60), { kind: 'open', piece: piece(0, 60, 1, 0) }],
    [
      'a segment 2 s after the end extends',
      piece(0, 60, 1, 0),
      s(62, 120),
      { kind: 'extend', piece: piece(0, 120, 2, 62) },
    ],
    [
      'a segment 2.001 s after opens',
      piece(0, 60, 1, 0),
      s(62.001, 120),
      { kind: 'open', piece: piece(62.001, 120, 1, 62.001) },
    ],
    [
      'a shorter overlapping segment keeps the end',
      piece(0, 60, 1, 0),
      s(30, 40),
      { kind: 'extend', piece: piece(0, 60, 2, 30) },
    ],
    [
      'a segment starting with the last one appends',
      piece(0, 60, 2, 30),
      s(30, 70),
      { kind: 'extend', piece: piece(0, 70, 3, 30) },
    ],
    ['an earlier segment (out of order) rebuilds', piece(0, 60, 2, 30), s(10, 20), { kind: 'rebuild' }],
  ])('%s', (_name, last, seg, expected) => {
    expect(coverageInsert(last, seg)).toEqual(expected);
  });

  it.each([
    [
      'a 30-day window: whole hours inside',
      T + 1,
      T + 30 * 86_400_000 - 1,
      { wholeFromMs: T + H, wholeToMs: T + 30 * 86_400_000 - H },
    ],
    ['hour-aligned edges are whole', T, T + 2 * H, { wholeFromMs: T, wholeToMs: T + 2 * H }],
    ['within one hour: none', T + 1, T + H - 1, null],
    ['across one hour boundary: none', T + 10, T + H + 10, null],
  ])('%s', (_name, from, to, expected) => {
    expect(coverageWindow(from, to)).toEqual(expected);
  });

  /** Random segment sets over a few hours: ascending by start, overlapping or not. */
  const segmentSets = fc.array(
    fc.record({ start: fc.integer({ min: 0, max: 4 * 3600 }), len: fc.integer({ min: 0, max: 200 }) }),
    { maxLength: 80 },
  );

  it('pieces per bucket merged again equal the merge of all segments; counts add up', () => {
    fc.assert(
      fc.property(segmentSets, (raw) => {
        const segs = raw.map((r) => s(r.start, r.start + r.len)).sort((a, b) => a.startMs - b.startMs);
        const buckets = new Map<number, typeof segs>();
        for (const x of segs)
          buckets.set(bucketOf(x.startMs), [...(buckets.get(bucketOf(x.startMs)) ?? []), x]);
        const pieces = [...buckets.keys()]
          .sort((a, b) => a - b)
          .flatMap((b) => coveragePieces(buckets.get(b)!));
        expect(mergeRanges(pieces)).toEqual(mergeRanges(segs));
        expect(pieces.reduce((n, p) => n + p.count, 0)).toBe(segs.length);
        const from = T + 1800_000;
        const to = T + 3 * 3600_000 + 5;
        expect(findHoles(pieces, from, to)).toEqual(findHoles(segs, from, to));
      }),
    );
  });

  it('inserting one segment at a time (any order) gives the pieces of the whole bucket', () => {
    fc.assert(
      fc.property(segmentSets, (raw) => {
        const segs = raw.map((r) => s(r.start % 3600, (r.start % 3600) + r.len));
        let pieces: CoveragePiece[] = [];
        const held: typeof segs = [];
        for (const x of segs) {
          held.push(x);
          const step = coverageInsert(pieces[pieces.length - 1] ?? null, x);
          if (step.kind === 'rebuild')
            pieces = coveragePieces([...held].sort((a, b) => a.startMs - b.startMs));
          else if (step.kind === 'open') pieces.push(step.piece);
          else pieces[pieces.length - 1] = step.piece;
        }
        expect(pieces).toEqual(coveragePieces([...held].sort((a, b) => a.startMs - b.startMs)));
      }),
    );
  });
});

describe('unindexedNames (reconciliation diff)', () => {
  it.each([
    [['b.mp4'], [], []],
    [
      ['20261202_000010.mp4', '20261202_000000.mp4', 'x.txt'],
      [],
      ['20261202_000000.mp4', '20261202_000010.mp4'],
    ],
    [['20261202_000010.mp4', '20261202_000000.mp4'], ['20261202_000000.mp4'], ['20261202_000010.mp4']],
    [['20261202_000000.mp4'], ['20261202_000000.mp4', '20261202_000005.mp4'], []],
  ])('%j minus %j = %j', (disk, rows, expected) => {
    expect(unindexedNames(disk, new Set(rows))).toEqual(expected);
  });
});

describe('planFlatMove (flat → day folder migration, crash-safe)', () => {
  it.each([
    [{ flatRow: true, dayRow: false, dayFileExists: false }, 'update_row_then_rename'],
    [{ flatRow: false, dayRow: true, dayFileExists: false }, 'rename'],
    [{ flatRow: false, dayRow: false, dayFileExists: false }, 'rename_unindexed'],
    [{ flatRow: true, dayRow: false, dayFileExists: true }, 'conflict'],
    [{ flatRow: false, dayRow: true, dayFileExists: true }, 'conflict'],
  ])('%j → %s', (input, expected) => {
    expect(planFlatMove(input)).toBe(expected);
  });
});

describe('segmentNode (whose disk a segment row names)', () => {
  it.each([
    ['single SQLite node: none', { isSqlite: true, storageShared: false, nodeId: 'a' }, null],
    ['SQLite with the shared flag: none', { isSqlite: true, storageShared: true, nodeId: 'a' }, null],
    ['PostgreSQL, per-node storage: this node', { isSqlite: false, storageShared: false, nodeId: 'a' }, 'a'],
    ['PostgreSQL, shared storage: none', { isSqlite: false, storageShared: true, nodeId: 'a' }, null],
  ])('%s', (_name, config, want) => {
    expect(segmentNode(config)).toBe(want);
  });
});

describe('day folder state (a pass lists only folders changed since the last full look)', () => {
  it.each([
    [undefined, 1000, false],
    [{ mtimeMs: 1000, files: 3 }, 1000, true],
    [{ mtimeMs: 1000, files: 3 }, 1000.5, false],
    [{ mtimeMs: 1000, files: 3 }, null, false],
  ])('saved %j, mtime %j → unchanged %j', (saved, mtime, expected) => {
    expect(dayUnchanged(saved, mtime)).toBe(expected);
  });

  const ok = { mtimeMs: 1000, statAtMs: 5000, mp4Files: 3, segmentFiles: 3, indexedFiles: 3 };
  it.each([
    [ok, true],
    [{ ...ok, statAtMs: 2500 }, false], // modified 1.5 s before the stat: not settled
    [{ ...ok, statAtMs: 3000 }, true],
    [{ ...ok, mtimeMs: null }, false], // the folder vanished
    [{ ...ok, indexedFiles: 2 }, false], // a file not indexed (still written, or failed to probe)
    [{ ...ok, mp4Files: 4 }, false], // an .mp4 that is no segment: the orphan reclaim must see it
    [{ ...ok, mp4Files: 0, segmentFiles: 0, indexedFiles: 0 }, true], // an empty folder
  ])('%j → may record %j', (input, expected) => {
    expect(mayRecordDay(input)).toBe(expected);
  });

  it.each([
    ['cam/2026-12-02/20261202_000000.mp4', '2026-12-02'],
    ['cam/20261202_000000.mp4', null],
    ['cam/2026-13-02/20261202_000000.mp4', null],
  ])('%s is in day folder %j', (path, day) => {
    expect(dayOfPath(path)).toBe(day);
  });
});
