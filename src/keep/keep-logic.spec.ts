import { decisionHorizonMs, extendWindow, keptBy, triggerWindow } from './keep-logic';

describe('keep windows', () => {
  it('a trigger asks for [t − pre, t + post]', () => {
    expect(triggerWindow(100_000, 10, 30)).toEqual({ startMs: 90_000, endMs: 130_000 });
    expect(triggerWindow(100_000, 0, 0)).toEqual({ startMs: 100_000, endMs: 100_000 });
  });

  it.each([
    ['a later overlapping trigger extends the end', [0, 40], [30, 70], [0, 70]],
    ['a touching one joins', [0, 40], [40, 80], [0, 80]],
    ['an earlier one inside never shortens', [0, 40], [10, 20], [0, 40]],
    ['a late-reported one extends the start', [20, 60], [10, 30], [10, 60]],
    ['a disjoint one opens a new window', [0, 40], [41, 80], null],
  ])('%s', (_n, cur, asked, want) => {
    const w = (a: number[]) => ({ startMs: a[0], endMs: a[1] });
    expect(extendWindow(w(cur), w(asked))).toEqual(want === null ? null : w(want));
  });

  it('a segment is kept by the first window that overlaps it (ends are exclusive)', () => {
    const segs = [
      [0, 10],
      [10, 20],
      [20, 30],
      [30, 40],
      [40, 50],
    ].map(([startMs, endMs]) => ({ startMs, endMs }));
    const windows = [
      { startMs: 12, endMs: 20 },
      { startMs: 38, endMs: 39 },
    ];
    expect(keptBy(segs, windows)).toEqual([-1, 0, -1, 1, -1]);
  });

  it('the decision horizon covers pre-roll, a segment and the margin', () => {
    expect(decisionHorizonMs(10, 10, 15)).toBe(35_000);
  });
});
