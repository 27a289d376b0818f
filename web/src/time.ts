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
