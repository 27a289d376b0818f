/** Leader lease timing: TTL on the store clock, renewal period, and the safety margin of the fencing. */
export interface LeaseTiming {
  ttlMs: number;
  renewMs: number;
  marginMs: number;
}

export const LEADER_TIMING: LeaseTiming = { ttlMs: 15_000, renewMs: 3_000, marginMs: 3_000 };

/**
 * What a node knows of its lease: whether its last answered attempt granted it, and the MONOTONIC
 * time at which it SENT the last attempt that was granted.
 */
export interface LeaseState {
  held: boolean;
  lastOkSentAt: number | null;
}

export const NO_LEASE: LeaseState = { held: false, lastOkSentAt: null };

/** The outcome of one take-or-renew attempt: granted, refused (another holds it), or no answer (error). */
export type Attempt = 'granted' | 'refused' | 'error';

/**
 * The state after an attempt sent at `sentAt` (monotonic). Granted: held, from the send time (the
 * store set the expiry after it, so the lease lasts at least TTL from `sentAt`). Refused: not held.
 * No answer: unchanged, the clock keeps running against the last grant.
 */
export function afterAttempt(s: LeaseState, sentAt: number, outcome: Attempt): LeaseState {
  if (outcome === 'granted')
    return { held: true, lastOkSentAt: Math.max(sentAt, s.lastOkSentAt ?? -Infinity) };
  if (outcome === 'refused') return NO_LEASE;
  return s;
}

/**
 * Whether the node acts as leader at monotonic `now`: only while (now − send time of the last
 * granted attempt) < TTL − margin, so it has stopped before the store clock could expire the lease
 * and let another node take it (the margin covers clock rate drift and the time to stop acting).
 */
export function actsAsLeader(s: LeaseState, now: number, t: LeaseTiming): boolean {
  return s.held && s.lastOkSentAt !== null && now - s.lastOkSentAt < t.ttlMs - t.marginMs;
}

/** The monotonic instant at which the node steps down unless a renewal is granted first (null: not leader). */
export function stepDownAt(s: LeaseState, t: LeaseTiming): number | null {
  return s.held && s.lastOkSentAt !== null ? s.lastOkSentAt + t.ttlMs - t.marginMs : null;
}
