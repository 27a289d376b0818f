/**
 * Camera leases (cluster on PostgreSQL): the pure decisions. Who may record a camera is settled by
 * an expiring lease row whose expiry is written from the DATABASE clock; a node judges its own
 * leases only by its MONOTONIC clock, from the moment it SENT the statement that confirmed them.
 */

/** A lease lives this long on the database clock after its last renewal. */
export const LEASE_TTL_MS = 15_000;
/** Every node renews all of its leases (one statement) this often. */
export const LEASE_RENEW_MS = 3_000;
/** A node stops recording a camera this long before the lease could expire on the database. */
export const FENCE_MARGIN_MS = 3_000;

/**
 * Until when (monotonic ms) a node may record a camera whose lease a statement sent at
 * `confirmedSentMs` confirmed. The database wrote `expires_at = now() + TTL` with its `now()` at or
 * after that send, so no other node can take the camera before `confirmedSentMs + TTL` (elapsed
 * real time); stopping at TTL − margin leaves the margin for the recorder to stop and for clock
 * rate error.
 */
export function fenceDeadline(
  confirmedSentMs: number,
  ttlMs = LEASE_TTL_MS,
  marginMs = FENCE_MARGIN_MS,
): number {
  return confirmedSentMs + ttlMs - marginMs;
}

/** Lease timing (the defaults in production; medium specs shorten them). */
export interface LeaseTiming {
  ttlMs: number;
  renewMs: number;
  marginMs: number;
}
export const DEFAULT_LEASE_TIMING: LeaseTiming = {
  ttlMs: LEASE_TTL_MS,
  renewMs: LEASE_RENEW_MS,
  marginMs: FENCE_MARGIN_MS,
};

/** The cameras of `held` (camera → send time of its last confirmation) this node can no longer
 * prove it owns at monotonic `nowMs`. */
export function fencedOut(
  held: ReadonlyMap<string, number>,
  nowMs: number,
  timing: LeaseTiming = DEFAULT_LEASE_TIMING,
): string[] {
  const out: string[] = [];
  for (const [cameraId, sentMs] of held)
    if (nowMs >= fenceDeadline(sentMs, timing.ttlMs, timing.marginMs)) out.push(cameraId);
  return out.sort();
}

export interface TakeInput {
  /** This node's capacity (`HELDAR_NODE_MAX_CAMERAS`). */
  capacity: number;
  /** Leases this node holds now. */
  held: number;
  /** Cameras that should record, in the whole cluster. */
  total: number;
  /** Cameras that should record and have no live lease. */
  free: number;
  /** Live nodes, this one included (≥ 1). */
  liveNodes: number;
  /** No other node holding leases holds fewer than this one. */
  leastLoaded: boolean;
}

/**
 * How many free cameras this node takes in one round. Fair and simple: up to its fair share
 * (⌈total / live nodes⌉ minus what it holds); and, when it is the least loaded holder, at least
 * an even split of what is free (⌈free / live nodes⌉: cameras freed by a dead node are taken
 * even while every survivor sits at its share, least-loaded first); never more than its capacity
 * leaves room for. Healthy cameras never move (no rebalancing).
 */
export function camerasToTake(i: TakeInput): number {
  const live = Math.max(1, i.liveNodes);
  const room = Math.max(0, i.capacity - i.held);
  const fairDeficit = Math.ceil(i.total / live) - i.held;
  const evenSplit = i.leastLoaded ? Math.ceil(i.free / live) : 0;
  return Math.max(0, Math.min(room, i.free, Math.max(fairDeficit, evenSplit)));
}

/** Which free cameras to take: those whose lease EXPIRED first (they were recording and are not
 * now: the shortest hole), then never-leased ones; within each, in an order of this node's own
 * (a hash of node and camera), so nodes racing for the same free cameras mostly reach for
 * different ones instead of queueing behind each other's inserts. */
export function pickCameras(
  free: ReadonlyArray<{ cameraId: string; expired: boolean }>,
  n: number,
  nodeId: string,
): string[] {
  const rank = new Map(free.map((f) => [f.cameraId, fnv1a(`${nodeId}\u0000${f.cameraId}`)]));
  return [...free]
    .sort(
      (a, b) =>
        Number(b.expired) - Number(a.expired) ||
        rank.get(a.cameraId)! - rank.get(b.cameraId)! ||
        (a.cameraId < b.cameraId ? -1 : 1),
    )
    .slice(0, n)
    .map((f) => f.cameraId);
}

/** 32-bit FNV-1a of a string (a stable per-node order, not a security measure). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** What changed in this node's ownership: cameras gained (`failover`: taken from an expired lease
 * of another node, not from a released one) and cameras lost. */
export interface OwnershipChange {
  gained: string[];
  lost: string[];
  failover: string[];
}
