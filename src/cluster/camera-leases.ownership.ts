import type { Observable } from 'rxjs';
import type { OwnershipChange } from './camera-leases.logic';

/**
 * Which cameras this node records (exported by ClusterModule; the recorder asks it). On SQLite
 * (single node) it owns every camera and never changes; on PostgreSQL it owns the cameras it holds
 * a lease on and can prove by its own monotonic clock.
 */
export abstract class CameraOwnership {
  abstract owns(cameraId: string): boolean;
  /**
   * How long ago (ms) this node stopped being able to prove its lease on the camera, while it does
   * not hold it now: a recorder of this node that opened a file since then had no lease (it was
   * paused past its fence, and wrote on when it resumed). Null while it holds the lease, and for a
   * camera it never lost (or released, or took back since); null on a single SQLite node.
   */
  abstract unprovenForMs(cameraId: string): number | null;
  /** Gained and lost cameras, as they change. */
  abstract readonly changes$: Observable<OwnershipChange>;
  /** Graceful shutdown, after the recorders stopped: give every lease back at once. */
  abstract releaseAll(): Promise<void>;
  /** Resolves once the lease round under way (if any) has ended and announced its changes. */
  abstract settled(): Promise<void>;
  /** Whether this node may take more cameras (it holds fewer than HELDAR_NODE_MAX_CAMERAS). */
  abstract hasRoom(): boolean;
  /** Of `cameraIds`, those no node holds a live lease on (SQLite: none, nothing read). */
  abstract unleased(cameraIds: readonly string[]): Promise<string[]>;
}

/** Optional provider of the number of live nodes (ClusterModule's node registry, when there is
 * one); without it the lease table's holders count (this node included). */
export const LIVE_NODE_COUNT = Symbol('LIVE_NODE_COUNT');
export type LiveNodeCount = () => Promise<number>;

/** Optional lease timing (`LeaseTiming`; default 15 s TTL, 3 s renewal, 3 s fence margin). */
export const LEASE_TIMING = Symbol('LEASE_TIMING');

/** The monotonic clock fencing reads (an adapter: tests pause and jump it). */
export class MonotonicClock {
  now(): number {
    return performance.now();
  }
}
