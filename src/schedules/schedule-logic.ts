/**
 * Recording schedules, pure: whether a camera's weekly windows are open at an instant, evaluated
 * on the wall clock of the camera's site time zone (IANA). Wall-clock evaluation is what keeps a
 * window right across DST changes: "22:00–06:00" means 22:00 local on both sides of the change,
 * and a window over midnight belongs to the day it opens on.
 */

export interface ScheduleWindow {
  /** Days the window opens on, 0 = Monday … 6 = Sunday. */
  days: readonly number[];
  /** Minutes after local midnight, 0..1439. */
  startMin: number;
  /** Minutes after local midnight; ≤ start means the window runs over midnight (equal: 24 h). */
  endMin: number;
  enabled: boolean;
}

/** "HH:MM" (00:00..23:59, or 24:00 as an end) → minutes, or null when malformed. */
export function parseHhMm(s: string, allow24 = false): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  return allow24 && s === '24:00' ? 1440 : null;
}

export const formatHhMm = (min: number): string =>
  `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

export interface LocalTime {
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
  /** Minutes after local midnight. */
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/** The wall-clock weekday and minute of `ms` in `tz` (formatter cached per zone). */
export function localTime(ms: number, tz: string): LocalTime {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  let weekday = 0;
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(ms)) {
    if (p.type === 'weekday') weekday = WEEKDAY[p.value] ?? 0;
    else if (p.type === 'hour') hour = Number(p.value) % 24;
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { weekday, minute: hour * 60 + minute };
}

/** Whether one window is open at a local time. */
export function windowOpenAt(w: ScheduleWindow, t: LocalTime): boolean {
  if (!w.enabled) return false;
  const today = w.days.includes(t.weekday);
  if (w.startMin < w.endMin) return today && t.minute >= w.startMin && t.minute < w.endMin;
  // Over midnight (or the whole day when start = end): the early part belongs to yesterday's window.
  const yesterday = w.days.includes((t.weekday + 6) % 7);
  return (today && t.minute >= w.startMin) || (yesterday && t.minute < w.endMin);
}

/** Whether any window is open at `ms` in `tz`. */
export function scheduleOpen(windows: readonly ScheduleWindow[], tz: string, ms: number): boolean {
  if (windows.length === 0) return false;
  const t = localTime(ms, tz);
  return windows.some((w) => windowOpenAt(w, t));
}
