import {
  at,
  clock,
  dayBounds,
  fromLocalInput,
  localDay,
  panWindow,
  pct,
  span,
  stepEvent,
  tickLabel,
  toLocalInput,
  windowOf,
  zoomAround,
  zoomWindow,
} from './time';

// The spec runs in the test process's time zone; these cases hold in any zone.
describe('timeline arithmetic', () => {
  it.each([
    [50, 0, 100, 50],
    [-10, 0, 100, 0],
    [150, 0, 100, 100],
    [5, 5, 5, 0],
  ])('pct(%d, %d, %d) = %d', (t, from, to, want) => expect(pct(t, from, to)).toBe(want));

  it.each([
    [10, 30, 0, 100, { left: 10, width: 20 }],
    [-10, 30, 0, 100, { left: 0, width: 30 }],
    [90, 200, 0, 100, { left: 90, width: 10 }],
    [30, 10, 0, 100, { left: 30, width: 0 }],
  ])('span(%d, %d) on [%d, %d]', (s, e, from, to, want) => expect(span(s, e, from, to)).toEqual(want));

  it.each([
    [0, 1000, 2000, 1000],
    [0.5, 1000, 2000, 1500],
    [2, 1000, 2000, 2000],
    [-1, 1000, 2000, 1000],
  ])('at(%d) on [%d, %d] = %d', (f, from, to, want) => expect(at(f, from, to)).toBe(want));

  it('a local day is 24 h (or 23/25 across a DST change) from local midnight, and round-trips', () => {
    const { from, to } = dayBounds('2026-03-10');
    expect(localDay(from)).toBe('2026-03-10');
    expect(localDay(to)).toBe('2026-03-11');
    expect(new Date(from).getHours()).toBe(0);
    expect([23, 24, 25]).toContain((to - from) / 3_600_000);
  });

  it('clock pads', () => {
    const d = new Date(2026, 0, 2, 3, 4, 5).getTime();
    expect(clock(d)).toBe('03:04:05');
  });

  it.each([
    ['from=1000&to=5000', { from: 1000, to: 5000 }],
    ['from=5000&to=1000', null],
    ['from=x&to=5000', null],
    ['', null],
  ])('windowOf(%s)', (q, want) => {
    expect(windowOf(new URLSearchParams(q), '2026-03-10')).toEqual(want ?? dayBounds('2026-03-10'));
  });

  it.each([
    [0, 86_400_000, 0.25, { from: 32_400_000, to: 54_000_000 }],
    [0, 120_000, 0.25, { from: 30_000, to: 90_000 }], // never under one minute
    [0, 20 * 86_400_000, 4, { from: -4 * 86_400_000, to: 24 * 86_400_000 }], // never over four weeks
  ])('zoomWindow([%d, %d], %d)', (from, to, f, want) => expect(zoomWindow(from, to, f)).toEqual(want));

  const H = 3_600_000;
  const DAY = 24 * H;
  it.each([
    ['in 4x around the middle', 0, DAY, DAY / 2, 0.25, { from: DAY / 2 - 3 * H, to: DAY / 2 + 3 * H }],
    ['in 4x around the start keeps the start', 0, DAY, 0, 0.25, { from: 0, to: 6 * H }],
    ['in 2x around 3/4', 0, 4 * H, 3 * H, 0.5, { from: 1.5 * H, to: 3.5 * H }],
    ['never under one minute', 0, 120_000, 60_000, 0.01, { from: 30_000, to: 90_000 }],
    ['never over four weeks', 0, 14 * DAY, 7 * DAY, 4, { from: -7 * DAY, to: 21 * DAY }],
    ['an anchor outside the window is clamped to its edge', 0, DAY, 2 * DAY, 0.5, { from: DAY / 2, to: DAY }],
  ])('zoomAround: %s', (_name, from, to, anchor, factor, want) =>
    expect(zoomAround(from, to, anchor, factor)).toEqual(want),
  );

  it.each([
    [0, 100, 0.25, { from: 25, to: 125 }],
    [0, 100, -0.5, { from: -50, to: 50 }],
  ])('panWindow(%d, %d, %d)', (from, to, f, want) => expect(panWindow(from, to, f)).toEqual(want));

  it('tickLabel: seconds when close, minutes over a day, the date over weeks', () => {
    const t = new Date(2026, 0, 2, 3, 4, 5).getTime();
    expect(tickLabel(t, 300_000)).toBe('03:04:05');
    expect(tickLabel(t, DAY)).toBe('03:04');
    expect(tickLabel(t, 7 * DAY)).toBe('01-02 03:04');
  });

  it.each([
    ['next after the cursor (unsorted input)', [30_000, 10_000, 20_000], 10_000, 1, 20_000],
    ['next skips one within the slack', [1000, 3000], 800, 1, 3000],
    ['no next after the last', [10_000, 20_000], 20_000, 1, null],
    ['previous before the cursor', [10_000, 20_000, 30_000], 30_000, -1, 20_000],
    ['no previous before the first', [1000], 1000, -1, null],
  ])('stepEvent: %s', (_name, times, cursor, dir, want) =>
    expect(stepEvent(times, cursor, dir as 1 | -1, 500)).toBe(want),
  );

  it('datetime-local values round-trip (seconds kept); anything else is null', () => {
    const t = new Date(2026, 4, 6, 7, 8, 9).getTime();
    expect(toLocalInput(t)).toBe('2026-05-06T07:08:09');
    expect(fromLocalInput('2026-05-06T07:08:09')).toBe(t);
    expect(fromLocalInput('2026-05-06T07:08')).toBe(t - 9000);
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('yesterday')).toBeNull();
  });
});
