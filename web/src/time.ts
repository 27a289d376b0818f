/** Pure time arithmetic for the timeline (no DOM). */

/** [from, to) of a local calendar day `YYYY-MM-DD` in epoch ms. */
export function dayBounds(day: string): { from: number; to: number } {
  const [y, m, d] = day.split('-').map(Number);
  const from = new Date(y, m - 1, d).getTime();
  const to = new Date(y, m - 1, d + 1).getTime();
  return { from, to };
}

/** Today's local date as `YYYY-MM-DD`. */
export function localDay(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Position (0–100 %) of `t` on [from, to], clamped. */
export function pct(t: number, from: number, to: number): number {
  if (to <= from) return 0;
  return Math.min(100, Math.max(0, ((t - from) / (to - from)) * 100));
}

/** A [start, end] range as left/width percentages of [from, to]. */
export function span(start: number, end: number, from: number, to: number): { left: number; width: number } {
  const left = pct(start, from, to);
  return { left, width: Math.max(pct(end, from, to) - left, 0) };
}

/** The instant at a fraction (0–1) of [from, to]. */
export function at(fraction: number, from: number, to: number): number {
  return Math.round(from + Math.min(1, Math.max(0, fraction)) * (to - from));
}

/** Wall-clock label `HH:MM:SS` (local). */
export function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The timeline's window: `from`/`to` (epoch ms) when given and sane, else the whole `day`. */
export function windowOf(params: URLSearchParams, day: string): { from: number; to: number } {
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  if (Number.isFinite(from) && Number.isFinite(to) && from > 0 && to > from) return { from, to };
  return dayBounds(day);
}

/** Zooms [from, to] around its centre by `factor` (0.25 = 4× closer), between one minute and four weeks. */
export function zoomWindow(from: number, to: number, factor: number): { from: number; to: number } {
  const centre = (from + to) / 2;
  const width = Math.min(28 * 86_400_000, Math.max(60_000, (to - from) * factor));
  return { from: Math.round(centre - width / 2), to: Math.round(centre + width / 2) };
}

/** Zooms [from, to] by `factor` keeping the instant `anchor` at the same place (wheel under the pointer). */
export function zoomAround(
  from: number,
  to: number,
  anchor: number,
  factor: number,
): { from: number; to: number } {
  const width = Math.min(28 * 86_400_000, Math.max(60_000, (to - from) * factor));
  const a = Math.min(to, Math.max(from, anchor));
  const f = to > from ? (a - from) / (to - from) : 0.5;
  const start = Math.round(a - f * width);
  return { from: start, to: start + Math.round(width) };
}

/** Moves [from, to] by `fraction` of its width (negative = earlier). */
export function panWindow(from: number, to: number, fraction: number): { from: number; to: number } {
  const d = Math.round((to - from) * fraction);
  return { from: from + d, to: to + d };
}

/** A tick label for the window's width: seconds under 10 min, the date beyond two days. */
export function tickLabel(ms: number, width: number): string {
  if (width <= 600_000) return clock(ms);
  if (width <= 2 * 86_400_000) return clock(ms).slice(0, 5);
  return `${localDay(ms).slice(5)} ${clock(ms).slice(0, 5)}`;
}

/** The event to step to from `cursor`: the first strictly after (next) or before (prev) it, by more than `slackMs`. */
export function stepEvent(times: number[], cursor: number, dir: 1 | -1, slackMs = 500): number | null {
  const sorted = [...times].sort((a, b) => a - b);
  if (dir === 1) return sorted.find((t) => t > cursor + slackMs) ?? null;
  for (let i = sorted.length - 1; i >= 0; i--) if (sorted[i] < cursor - slackMs) return sorted[i];
  return null;
}

/** `YYYY-MM-DDTHH:MM:SS` (local), the value of an `<input type="datetime-local" step="1">`. */
export function toLocalInput(ms: number): string {
  return `${localDay(ms)}T${clock(ms)}`;
}

/** The instant of a `datetime-local` value (local time), or null when it is not one. */
export function fromLocalInput(value: string): number | null {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/.exec(value);
  if (!m) return null;
  const [y, mo, d, hh, mm, ss] = m.slice(1).map((x) => Number(x ?? 0));
  const t = new Date(y, mo - 1, d, hh, mm, ss).getTime();
  return Number.isFinite(t) ? t : null;
}
