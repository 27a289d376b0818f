/** A node is live while its heartbeat is this recent (store clock). */
export const NODE_LIVE_MS = 15_000;
/** Heartbeat period. */
export const HEARTBEAT_MS = 3_000;

/** Who holds a node id now, as its row says. */
export interface NodeHolder {
  bootId: string;
  host: string;
  pid: number;
  /** Last heartbeat and the store clock now, both ISO text of the store clock. */
  lastSeen: string;
  stoppedAt: string | null;
}

export interface Claimant {
  bootId: string;
  host: string;
  pid: number;
}

export type ClaimVerdict =
  | { take: true; why: 'same_process' | 'stopped' | 'dead_process' | 'silent' }
  | { take: false; holder: { pid: number; host: string } };

/**
 * May `me` take the node id `holder` has (its row exists with another boot id)? Yes when the holder
 * stopped gracefully, when it is a former life of this very process (same host and pid: an in-process
 * restart, or pid 1 of a restarted container), when it ran on this host and its pid is gone (a crash:
 * it must not block the restart), or when its heartbeat is older than the liveness window. Otherwise
 * another kernel is alive with this id: refuse.
 */
export function claimVerdict(
  holder: NodeHolder,
  me: Claimant,
  storeNowIso: string,
  pidAlive: (pid: number) => boolean,
  liveMs = NODE_LIVE_MS,
): ClaimVerdict {
  if (holder.bootId === me.bootId) return { take: true, why: 'same_process' };
  if (holder.stoppedAt !== null) return { take: true, why: 'stopped' };
  if (holder.host === me.host) {
    if (holder.pid === me.pid) return { take: true, why: 'same_process' };
    if (!pidAlive(holder.pid)) return { take: true, why: 'dead_process' };
  }
  const age = Date.parse(storeNowIso) - Date.parse(holder.lastSeen);
  if (!(age < liveMs)) return { take: true, why: 'silent' };
  return { take: false, holder: { pid: holder.pid, host: holder.host } };
}

/** The refusal a second kernel prints (what it found, and what to do). */
export function refusalMessage(
  holder: { pid: number; host: string },
  sqlite: boolean,
  where: string,
  nodeId: string,
): string {
  const who = `another Heldar kernel (pid ${holder.pid} on host ${holder.host})`;
  return sqlite
    ? `${who} is using ${where}; stop it first (SQLite is single-node: one kernel per database file)`
    : `${who} is running as node ${nodeId} on ${where}; stop it first, or give this one another HELDAR_NODE_ID`;
}

/** Whether a process of this host is alive (signal 0: EPERM means alive under another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
