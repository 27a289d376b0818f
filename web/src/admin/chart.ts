/** The retention forecast as a chart: pure layout (which bar how long, where the ticks go). */

export interface ForecastCamera {
  camera_id: string;
  name: string;
  retention_hours: number;
  write_rate_bytes_per_day: number;
  days_kept: number | null;
  retention_achievable: boolean | null;
  limited_by: string;
}

export interface Forecast {
  capacity_bytes: number | null;
  bound_by: 'cap' | 'disk' | null;
  write_rate_bytes_per_day: number;
  store_days: number | null;
  cameras: ForecastCamera[];
}

export interface Bar {
  id: string;
  label: string;
  /** Days kept (null: no writes in 24 h, nothing to forecast). */
  days: number | null;
  /** The retention the camera asks for, in days (null for the store row). */
  targetDays: number | null;
  /** Bar length and target tick as a share of the axis, 0..1. */
  length: number;
  target: number | null;
  /** ok: keeps what it asks for; short: will not; unknown: no data. */
  verdict: 'ok' | 'short' | 'unknown';
  note: string;
}

/** A round axis maximum at or above `x` (1, 2, 5 × 10^n), at least 1 day. */
export function niceMax(x: number): number {
  if (!(x > 1)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

const LIMITS: Record<string, string> = {
  retention_hours: 'its retention_hours',
  quota: 'its storage quota',
  cap: 'the recordings cap',
  disk: 'the free disk',
  no_data: 'no writes in 24 h',
};

const days = (d: number) => (d >= 10 ? `${Math.round(d)} d` : `${Math.round(d * 10) / 10} d`);

/** One row for the whole store, then one per camera, on a shared axis in days. */
export function forecastBars(f: Forecast): { axisDays: number; ticks: number[]; bars: Bar[] } {
  const values = [f.store_days ?? 0, ...f.cameras.flatMap((c) => [c.days_kept ?? 0, c.retention_hours / 24])];
  // A store that keeps years should not squash every camera into a sliver: cap the axis at 3× the
  // longest camera target (the store bar then runs to the edge, its label still exact).
  const longestTarget = Math.max(0, ...f.cameras.map((c) => c.retention_hours / 24));
  const raw = Math.max(...values);
  const axisDays = niceMax(longestTarget > 0 ? Math.min(raw, longestTarget * 3) : raw);
  const share = (d: number) => Math.min(1, Math.max(0, d / axisDays));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => Math.round(t * axisDays * 100) / 100);
  const store: Bar = {
    id: '_store',
    label: 'All recordings',
    days: f.store_days,
    targetDays: null,
    length: f.store_days === null ? 0 : share(f.store_days),
    target: null,
    verdict: f.store_days === null ? 'unknown' : 'ok',
    note:
      f.store_days === null
        ? 'no capacity or no writes known'
        : `${days(f.store_days)} until ${f.bound_by === 'cap' ? 'the cap' : 'the disk floor'} at today's rate`,
  };
  const bars = f.cameras.map((c): Bar => {
    const targetDays = c.retention_hours / 24;
    const verdict = c.days_kept === null ? 'unknown' : c.retention_achievable === false ? 'short' : 'ok';
    return {
      id: c.camera_id,
      label: c.name,
      days: c.days_kept,
      targetDays,
      length: c.days_kept === null ? 0 : share(c.days_kept),
      target: share(targetDays),
      verdict,
      note:
        c.days_kept === null
          ? 'no writes in 24 h'
          : `${days(c.days_kept)} of ${days(targetDays)} asked, limited by ${LIMITS[c.limited_by] ?? c.limited_by}`,
    };
  });
  return { axisDays, ticks, bars: [store, ...bars] };
}
