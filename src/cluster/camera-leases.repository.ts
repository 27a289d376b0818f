import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../database/database.service';

/** `now() + secs` on the database clock, as the ISO-8601 UTC text every timestamp column holds. */
const isoAt = (secsParam: string) =>
  `to_char((now() + make_interval(secs => ${secsParam})) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const ISO_NOW = isoAt('0');
/** Arbitrary constant naming the advisory lock that serialises the nodes' acquiring transactions. */
const ACQUIRE_LOCK = 74_201_002;

export interface AcquireOutcome {
  /** Cameras this node took, and whether each came from another node's EXPIRED lease. */
  taken: Array<{ cameraId: string; failover: boolean }>;
  /** This node's leases of cameras that no longer record (deleted, disabled): released. */
  released: string[];
}

/** How many cameras to take, given the cluster's state as read inside the acquiring transaction. */
export type TakeDecision = (state: {
  held: number;
  total: number;
  free: Array<{ cameraId: string; expired: boolean }>;
  holders: number;
  /** No other node holding leases holds fewer than this one. */
  leastLoaded: boolean;
}) => string[];

/**
 * The `camera_leases` table (PostgreSQL only: a single SQLite node owns every camera and never
 * reads it). Every time comparison and every expiry is the database's `now()`.
 */
@Injectable()
export class CameraLeasesRepository {
  constructor(private readonly db: DatabaseService) {}

  /** One statement for all of this node's leases: those still unexpired get TTL more. Returns
   * the cameras whose lease was renewed (a held camera missing here was taken or had expired). */
  async renew(nodeId: string, ttlMs: number): Promise<string[]> {
    const rows = await this.db.run((m) =>
      m.query<Array<{ camera_id: string }>>(
        `UPDATE camera_leases SET expires_at = ${isoAt('$2')}
         WHERE node_id = $1 AND expires_at > ${ISO_NOW} RETURNING camera_id`,
        [nodeId, ttlMs / 1000],
      ),
    );
    return pgRows(rows).map((r) => r.camera_id);
  }

  /**
   * One transaction: release this node's leases of cameras not in `shouldRecord`, then take the
   * free ones `decide` picks. Expired rows are locked (`FOR UPDATE SKIP LOCKED`: two nodes never
   * wait on each other's candidates) and the write is a conditional upsert (`ON CONFLICT … WHERE
   * expires_at <= now()`), so a camera another node holds or took meanwhile is never overwritten:
   * no camera can get two owners.
   *
   * The nodes' acquiring transactions run one at a time (a transaction-scoped advisory lock, held
   * for a few milliseconds), so each decides on the others' committed takes. Racing, upserts of
   * overlapping cameras in different orders can deadlock (PostgreSQL aborts one: that node takes
   * nothing that round) or one node can lose every pick; a node holding nothing is invisible to
   * the load query, so the others counted themselves least loaded and split its share between
   * them: 21 of 50 cameras on one of 3 nodes in a CI run, where 16-17 is fair.
   */
  async acquire(
    nodeId: string,
    shouldRecord: readonly string[],
    ttlMs: number,
    decide: TakeDecision,
  ): Promise<AcquireOutcome> {
    const ids = [...shouldRecord];
    return this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [ACQUIRE_LOCK]);
      const released = pgRows(
        await m.query<Array<{ camera_id: string }>>(
          `DELETE FROM camera_leases WHERE node_id = $1 AND NOT (camera_id = ANY($2::text[])) RETURNING camera_id`,
          [nodeId, ids],
        ),
      ).map((r) => r.camera_id);
      const load = await m.query<Array<{ node_id: string; n: string | number }>>(
        `SELECT node_id, COUNT(*) AS n FROM camera_leases WHERE expires_at > ${ISO_NOW} GROUP BY node_id`,
      );
      const held = Number(load.find((r) => r.node_id === nodeId)?.n ?? 0);
      const holders = new Set(load.map((r) => r.node_id).concat(nodeId)).size;
      const leastLoaded = load.every((r) => r.node_id === nodeId || Number(r.n) >= held);
      const live = new Set(
        (
          await m.query<Array<{ camera_id: string }>>(
            `SELECT camera_id FROM camera_leases WHERE camera_id = ANY($1::text[]) AND expires_at > ${ISO_NOW}`,
            [ids],
          )
        ).map((r) => r.camera_id),
      );
      const expired = await m.query<Array<{ camera_id: string; node_id: string }>>(
        `SELECT camera_id, node_id FROM camera_leases
         WHERE camera_id = ANY($1::text[]) AND expires_at <= ${ISO_NOW} FOR UPDATE SKIP LOCKED`,
        [ids],
      );
      const expiredOf = new Map(expired.map((r) => [r.camera_id, r.node_id]));
      const free = ids
        .filter((id) => !live.has(id))
        .map((cameraId) => ({ cameraId, expired: expiredOf.has(cameraId) }));
      const picks = decide({ held, total: ids.length, free, holders, leastLoaded });
      if (picks.length === 0) return { taken: [], released };
      const got = pgRows(
        await m.query<Array<{ camera_id: string }>>(
          `INSERT INTO camera_leases (camera_id, node_id, expires_at, acquired_at)
           SELECT c, $1, ${isoAt('$3')}, ${ISO_NOW} FROM unnest($2::text[]) AS c
           ON CONFLICT (camera_id) DO UPDATE
             SET node_id = excluded.node_id, expires_at = excluded.expires_at, acquired_at = excluded.acquired_at
             WHERE camera_leases.expires_at <= ${ISO_NOW}
           RETURNING camera_id`,
          [nodeId, picks, ttlMs / 1000],
        ),
      );
      // A lease this node let expire is taken back as a failover too (its recorder was fenced).
      const taken = got.map((r) => ({ cameraId: r.camera_id, failover: expiredOf.has(r.camera_id) }));
      return { taken, released };
    });
  }

  /** Graceful shutdown: every lease of this node goes (the others take them at their next round). */
  async releaseAll(nodeId: string): Promise<number> {
    const rows = await this.db.run((m) =>
      m.query<unknown[]>(`DELETE FROM camera_leases WHERE node_id = $1 RETURNING camera_id`, [nodeId]),
    );
    return pgRows(rows).length;
  }

  /** Every live lease (camera → node), for the owner metric, /readyz and tests. */
  async owners(): Promise<Map<string, string>> {
    const rows = await this.db.run((m) =>
      m.query<Array<{ camera_id: string; node_id: string }>>(
        `SELECT camera_id, node_id FROM camera_leases WHERE expires_at > ${ISO_NOW}`,
      ),
    );
    return new Map(rows.map((r) => [r.camera_id, r.node_id]));
  }
}

/** TypeORM's postgres driver answers UPDATE/DELETE … RETURNING as [rows, affected]. */
function pgRows<T>(res: T[] | [T[], number]): T[] {
  return Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number'
    ? res[0]
    : (res as T[]);
}
