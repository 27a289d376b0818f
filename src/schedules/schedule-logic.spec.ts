import { localTime, parseHhMm, scheduleOpen, type ScheduleWindow } from './schedule-logic';

const win = (days: number[], start: string, end: string, enabled = true): ScheduleWindow => ({
  days,
  startMin: parseHhMm(start)!,
  endMin: parseHhMm(end, true)!,
  enabled,
});
const at = (iso: string) => Date.parse(iso);
const ALL = [0, 1, 2, 3, 4, 5, 6];

describe('parseHhMm', () => {
  it.each([
    ['00:00', 0],
    ['09:30', 570],
    ['23:59', 1439],
    ['24:00', null],
    ['9:30', null],
    ['12:60', null],
    ['25:00', null],
    ['', null],
    ['12:00:00', null],
  ])('%s → %s', (s, want) => expect(parseHhMm(s)).toBe(want));
  it('takes 24:00 only as an end', () => expect(parseHhMm('24:00', true)).toBe(1440));
});

describe('localTime', () => {
  it.each([
    // 2026-12-02 is a Wednesday (2).
    ['2026-12-02T12:00:00Z', 'UTC', 2, 720],
    ['2026-12-02T12:00:00Z', 'Asia/Tokyo', 2, 21 * 60],
    ['2026-12-02T20:00:00Z', 'Asia/Tokyo', 3, 5 * 60], // already Thursday in Tokyo
    ['2026-12-02T03:00:00Z', 'America/Los_Angeles', 1, 19 * 60], // still Tuesday in LA
    ['2026-12-06T23:30:00Z', 'Europe/Berlin', 0, 30], // Sunday UTC, Monday 00:30 in Berlin
  ])('%s in %s → weekday %d, minute %d', (iso, tz, weekday, minute) =>
    expect(localTime(at(iso), tz)).toEqual({ weekday, minute }),
  );
});

describe('scheduleOpen', () => {
  it.each<[string, ScheduleWindow[], string, string, boolean]>([
    ['inside a daytime window', [win(ALL, '08:00', '18:00')], 'UTC', '2026-12-02T09:00:00Z', true],
    ['at its start (inclusive)', [win(ALL, '08:00', '18:00')], 'UTC', '2026-12-02T08:00:00Z', true],
    ['at its end (exclusive)', [win(ALL, '08:00', '18:00')], 'UTC', '2026-12-02T18:00:00Z', false],
    ['a day not listed', [win([0, 1], '08:00', '18:00')], 'UTC', '2026-12-02T09:00:00Z', false],
    ['a disabled window', [win(ALL, '08:00', '18:00', false)], 'UTC', '2026-12-02T09:00:00Z', false],
    ['no windows at all', [], 'UTC', '2026-12-02T09:00:00Z', false],
    // Over midnight: Wednesday's 22:00–06:00 window covers Thursday 03:00, not Wednesday 03:00.
    ['over midnight, late part', [win([2], '22:00', '06:00')], 'UTC', '2026-12-02T23:00:00Z', true],
    [
      'over midnight, early part (next day)',
      [win([2], '22:00', '06:00')],
      'UTC',
      '2026-12-03T03:00:00Z',
      true,
    ],
    [
      'over midnight, early part of its own day',
      [win([2], '22:00', '06:00')],
      'UTC',
      '2026-12-02T03:00:00Z',
      false,
    ],
    [
      'start = end is a whole day from start',
      [win([2], '10:00', '10:00')],
      'UTC',
      '2026-12-03T09:59:00Z',
      true,
    ],
    ['…and ends there', [win([2], '10:00', '10:00')], 'UTC', '2026-12-03T10:00:00Z', false],
    ['an end of 24:00', [win([2], '20:00', '24:00')], 'UTC', '2026-12-02T23:59:00Z', true],
    // A site 9 hours from the server: 22:00–06:00 in Tokyo is 13:00–21:00 UTC.
    [
      'Tokyo night window at 14:00 UTC',
      [win(ALL, '22:00', '06:00')],
      'Asia/Tokyo',
      '2026-12-02T14:00:00Z',
      true,
    ],
    [
      'Tokyo night window at 22:00 UTC (07:00 local)',
      [win(ALL, '22:00', '06:00')],
      'Asia/Tokyo',
      '2026-12-02T22:00:00Z',
      false,
    ],
    // DST, Europe/Berlin: clocks go back 2026-10-25 03:00 CEST → 02:00 CET; forward 2026-03-29 02:00 → 03:00.
    [
      'Berlin 07:00 local the day after fall-back = 06:00 UTC',
      [win(ALL, '07:00', '08:00')],
      'Europe/Berlin',
      '2026-10-25T06:00:00Z',
      true,
    ],
    [
      '…and 05:30 UTC is 06:30 local (closed)',
      [win(ALL, '07:00', '08:00')],
      'Europe/Berlin',
      '2026-10-25T05:30:00Z',
      false,
    ],
    [
      'Berlin 07:00 local before fall-back = 05:00 UTC',
      [win(ALL, '07:00', '08:00')],
      'Europe/Berlin',
      '2026-10-24T05:00:00Z',
      true,
    ],
    [
      'Berlin after spring-forward: 07:00 local = 05:00 UTC',
      [win(ALL, '07:00', '08:00')],
      'Europe/Berlin',
      '2026-03-29T05:00:00Z',
      true,
    ],
    [
      '…and 06:30 UTC is 08:30 local (closed)',
      [win(ALL, '07:00', '08:00')],
      'Europe/Berlin',
      '2026-03-29T06:30:00Z',
      false,
    ],
    // The repeated hour (02:00–03:00 twice on fall-back night) is open both times.
    [
      'repeated hour, first pass (CEST)',
      [win(ALL, '02:00', '03:00')],
      'Europe/Berlin',
      '2026-10-25T00:30:00Z',
      true,
    ],
    [
      'repeated hour, second pass (CET)',
      [win(ALL, '02:00', '03:00')],
      'Europe/Berlin',
      '2026-10-25T01:30:00Z',
      true,
    ],
    // The skipped hour (02:00–03:00 on spring-forward night) never happens.
    [
      'skipped hour never opens',
      [win(ALL, '02:00', '03:00')],
      'Europe/Berlin',
      '2026-03-29T01:00:00Z',
      false,
    ],
    // New York fall-back 2026-11-01: a 22:00–06:00 window over the change lasts 9 h of real time.
    [
      'NY night over fall-back, 10:30 UTC = 05:30 EST',
      [win(ALL, '22:00', '06:00')],
      'America/New_York',
      '2026-11-01T10:30:00Z',
      true,
    ],
    [
      'NY night over fall-back, 11:00 UTC = 06:00 EST (closed)',
      [win(ALL, '22:00', '06:00')],
      'America/New_York',
      '2026-11-01T11:00:00Z',
      false,
    ],
    [
      'one of two windows open',
      [win([0], '08:00', '09:00'), win([2], '08:00', '09:00')],
      'UTC',
      '2026-12-02T08:30:00Z',
      true,
    ],
  ])('%s', (_name, windows, tz, iso, want) => expect(scheduleOpen(windows, tz, at(iso))).toBe(want));
});
