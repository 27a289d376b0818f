/** Pure rules of snapshot schedules: when one is due, where its JPEG goes, what a JPEG is. */

export const SNAPSHOT_INTERVAL_MIN_S = 5;
export const SNAPSHOT_INTERVAL_MAX_S = 86_400;
export const SNAPSHOT_INTERVAL_DEFAULT_S = 300;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * The file of a snapshot, relative to `<data>/snapshots`: `<camera>/<YYYY-MM-DD>/<YYYYmmdd_HHMMSS>.jpg`
 * in UTC (like the recordings). `seq` > 0 (a second snapshot of the camera in the same second)
 * adds `-<seq>` before the extension.
 */
export function snapshotRelPath(cameraId: string, takenMs: number, seq = 0): string {
  const d = new Date(takenMs);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const stamp =
    `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}_` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  return `${cameraId}/${day}/${stamp}${seq > 0 ? `-${seq}` : ''}.jpg`;
}

/**
 * Whether a schedule is due at `nowMs`, given when its next shot was planned (null: never taken,
 * due at once). A plan further ahead than one interval (the clock went back) is due too, so a
 * clock step never stalls a schedule.
 */
export function isDue(nextDueMs: number | null, intervalSeconds: number, nowMs: number): boolean {
  if (nextDueMs === null) return true;
  return nextDueMs <= nowMs || nextDueMs - nowMs > intervalSeconds * 1000;
}

/** A JPEG starts with the SOI marker and a segment marker: FF D8 FF. */
export function isJpeg(buf: Uint8Array): boolean {
  return buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
}

/**
 * Whether this node takes a camera's snapshots: the node that records the camera does (its
 * lease holder in a cluster: the JPEG lands next to the footage, and the camera is pulled by one
 * node); a camera that no node records (recording off for it, or everywhere) is taken by the
 * leader. A recording camera without a holder (the seconds of a failover) is taken by nobody.
 */
export function takesSnapshotsOf(s: { owns: boolean; leader: boolean; recorded: boolean }): boolean {
  return s.owns || (s.leader && !s.recorded);
}
