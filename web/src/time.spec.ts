import { at, clock, dayBounds, localDay, pct, span, windowOf, zoomWindow } from './time';

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
});
