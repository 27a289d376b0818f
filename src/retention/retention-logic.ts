/**
 * Pure arithmetic of retention: max-min fair shares, the eviction choice and the forecast.
 * No I/O here, so every rule is unit-tested.
 */
import { isEventMode, type RecordMode } from '../cameras/record-mode';

/**
 * Max-min fair split ("water filling") of `capacity` among `demands`: a demand at or below the
 * common level is met in full, everyone above it gets the level. Σ result = min(capacity, Σ demands).
 */
export function maxMinShares(capacity: number, demands: readonly number[]): number[] {
  const shares = demands.map(() => 0);
  if (capacity <= 0) return shares;
  const order = demands.map((d, i) => i).sort((a, b) => demands[a] - demands[b]);
  let left = Math.max(0, capacity);
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const level = left / (order.length - k);
    const give = Math.min(Math.max(0, demands[i]), level);
    shares[i] = give;
    left -= give;
  }
  return shares;
}

export interface CameraUsage {
  cameraId: string;
  /** Bytes that may be deleted (not evidence-locked, not read-locked). */
  deletableBytes: number;
}

/**
 * Which camera gives up its oldest footage when the deletable bytes of all cameras must shrink to
 * `budget`: the one furthest above its max-min fair share of the budget, with how far over it is.
 * Protected (locked) bytes are taken out of the budget by the caller, so a camera holding evidence
 * does not push its neighbours out. Null when nothing is over (or nothing is deletable).
 */
export function pickEvictionCamera(
  usage: readonly CameraUsage[],
  budget: number,
): { cameraId: string; overBytes: number } | null {
  const shares = maxMinShares(
    budget,
    usage.map((u) => u.deletableBytes),
  );
  let best: { cameraId: string; overBytes: number } | null = null;
  usage.forEach((u, i) => {
    const over = u.deletableBytes - shares[i];
    if (u.deletableBytes > 0 && over > (best?.overBytes ?? 0))
      best = { cameraId: u.cameraId, overBytes: over };
  });
  return best;
}

/** Segments to delete to remove about `overBytes` at `avgBytes` each, within [1, max]. */
export function segmentsFor(overBytes: number, avgBytes: number, max: number): number {
  if (!(avgBytes > 0)) return max;
  return Math.min(max, Math.max(1, Math.ceil(overBytes / avgBytes)));
}

/** Batch size for the free-disk floor: about the deficit in average segments, within [20, 256]. */
export function floorBatchSize(deficitBytes: number, avgSegmentBytes: number): number {
  if (!(avgSegmentBytes > 0)) return 20;
  return Math.min(256, Math.max(20, Math.ceil(deficitBytes / avgSegmentBytes)));
}

export interface ClipCandidate {
  id: string;
  sizeBytes: number;
  createdAt: string;
}

/**
 * Clips the free-disk floor deletes before any recording: the oldest first until their bytes
 * cover `deficitBytes` (all of them when they cannot). Only clips retention may delete (not
 * evidence-locked) are passed in. Clips are copies of footage, so they go before the footage.
 */
export function pickClipsForFloor(clips: readonly ClipCandidate[], deficitBytes: number): string[] {
  if (!(deficitBytes > 0)) return [];
  const oldestFirst = [...clips].sort((a, b) =>
    a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1,
  );
  const picked: string[] = [];
  let freed = 0;
  for (const c of oldestFirst) {
    if (freed >= deficitBytes) break;
    picked.push(c.id);
    freed += Math.max(0, c.sizeBytes);
  }
  return picked;
}

export interface ForecastCamera {
  cameraId: string;
  name: string;
  retentionHours: number;
  /** 0 or null = no per-camera quota. */
  quotaBytes: number | null;
  recordingsBytes: number;
  protectedBytes: number;
  /** Bytes per day the camera keeps (see `keptWriteRate`). */
  writeRateBytesPerDay: number;
  /** Bytes its scheduled snapshots hold at steady state (they are pruned by their own age, so
   * they are set aside from the capacity like locked footage). */
  snapshotBytes?: number;
}

/**
 * The write rate the forecast uses for a camera: the bytes per day it KEEPS, not what it records.
 * A continuous or scheduled camera keeps what it records (`recordedBytesPerDay`). An event camera
 * (`event`, `scheduled_event`) records continuously but keeps only the segments a keep window
 * reaches, the others deleted within the pre-roll horizon; its rate is `keptBytesPerDay`: the bytes
 * of its segments that ended in the last 24 h with `kept_by` `event:<reason>` (or `lock`, held by a
 * lock) — measured from what was kept, not the recorded rate × a kept fraction, because deleted
 * segments leave no row to measure the recorded rate by. Segments still undecided (the last pre-roll
 * horizon: minutes of the 24 h window) are not counted.
 */
export function keptWriteRate(
  mode: RecordMode,
  recordedBytesPerDay: number,
  keptBytesPerDay: number,
): number {
  return Math.max(0, isEventMode(mode) ? keptBytesPerDay : recordedBytesPerDay);
}

export interface ForecastInput {
  cameras: readonly ForecastCamera[];
  /** 0 = no global cap. */
  capBytes: number;
  minFreeBytes: number;
  disk: { totalBytes: number; freeBytes: number } | null;
}

export type Limiter = 'retention_hours' | 'quota' | 'cap' | 'disk' | 'no_data';

export interface CameraForecast {
  camera_id: string;
  name: string;
  retention_hours: number;
  quota_bytes: number | null;
  recordings_bytes: number;
  /** Bytes of its scheduled snapshots at steady state (set aside from the capacity). */
  snapshots_bytes: number;
  write_rate_bytes_per_day: number;
  /** Bytes this camera may keep at steady state under the cap / disk (null = unbounded). */
  fair_share_bytes: number | null;
  /** Days of footage the camera will keep at the current write rate (null without writes in 24 h). */
  days_kept: number | null;
  retention_achievable: boolean | null;
  limited_by: Limiter;
}

export interface Forecast {
  /** What bounds the store: the cap, the disk (free space above the floor), or nothing known. */
  capacity_bytes: number | null;
  bound_by: 'cap' | 'disk' | null;
  write_rate_bytes_per_day: number;
  /** Days the whole store holds at the current rate (capacity / rate). */
  store_days: number | null;
  cameras: CameraForecast[];
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Steady-state forecast at the last 24 h write rate: each camera wants `rate × retention_hours`
 * (at most its quota); the capacity (cap, or what the disk can hold above the floor, whichever is
 * smaller, minus locked footage and snapshots) is split max-min fairly; days kept = share / rate.
 */
export function forecast(input: ForecastInput): Forecast {
  const snapshots = input.cameras.reduce((s, c) => s + (c.snapshotBytes ?? 0), 0);
  const used = input.cameras.reduce((s, c) => s + c.recordingsBytes, 0) + snapshots;
  const locked = input.cameras.reduce((s, c) => s + c.protectedBytes, 0) + snapshots;
  const diskCapacity = input.disk
    ? Math.max(0, used + input.disk.freeBytes - input.minFreeBytes)
    : Number.POSITIVE_INFINITY;
  const capCapacity = input.capBytes > 0 ? input.capBytes : Number.POSITIVE_INFINITY;
  const capacity = Math.min(diskCapacity, capCapacity);
  const boundBy = !Number.isFinite(capacity) ? null : capCapacity <= diskCapacity ? 'cap' : 'disk';
  const rate = input.cameras.reduce((s, c) => s + c.writeRateBytesPerDay, 0);

  const wants = input.cameras.map((c) => {
    const byAge = (c.writeRateBytesPerDay * c.retentionHours) / 24;
    return c.quotaBytes && c.quotaBytes > 0 ? Math.min(byAge, c.quotaBytes) : byAge;
  });
  const shares = Number.isFinite(capacity) ? maxMinShares(Math.max(0, capacity - locked), wants) : wants;

  const cameras = input.cameras.map((c, i): CameraForecast => {
    const base = {
      camera_id: c.cameraId,
      name: c.name,
      retention_hours: c.retentionHours,
      quota_bytes: c.quotaBytes && c.quotaBytes > 0 ? c.quotaBytes : null,
      recordings_bytes: c.recordingsBytes,
      snapshots_bytes: Math.round(c.snapshotBytes ?? 0),
      write_rate_bytes_per_day: Math.round(c.writeRateBytesPerDay),
      fair_share_bytes: Number.isFinite(capacity) ? Math.round(shares[i]) : null,
    };
    if (c.writeRateBytesPerDay <= 0) {
      return { ...base, days_kept: null, retention_achievable: null, limited_by: 'no_data' };
    }
    const target = c.retentionHours / 24;
    const days = Math.min(target, shares[i] / c.writeRateBytesPerDay);
    // 0.1 % slack: the share is computed from the same figures, so equality is "achievable".
    const starved = shares[i] < wants[i] * 0.999;
    const quotaBinds =
      !!c.quotaBytes && c.quotaBytes > 0 && c.quotaBytes < (c.writeRateBytesPerDay * c.retentionHours) / 24;
    const limitedBy: Limiter = starved ? (boundBy ?? 'cap') : quotaBinds ? 'quota' : 'retention_hours';
    return {
      ...base,
      days_kept: round(days),
      retention_achievable: days >= target * 0.999,
      limited_by: limitedBy,
    };
  });

  return {
    capacity_bytes: Number.isFinite(capacity) ? Math.round(capacity) : null,
    bound_by: boundBy,
    write_rate_bytes_per_day: Math.round(rate),
    store_days: Number.isFinite(capacity) && rate > 0 ? round(capacity / rate) : null,
    cameras,
  };
}
