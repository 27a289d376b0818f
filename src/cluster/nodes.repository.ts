import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../database/database.service';
import { ClusterLeaderEntity } from './entities/cluster-leader.entity';
import { ClusterMetaEntity } from './entities/cluster-meta.entity';
import { NodeEntity } from './entities/node.entity';

/** The leader lease's one row. */
const LEADER = 'leader';

/**
 * The store's clock as ISO-8601 UTC text with milliseconds (the format of every timestamp column),
 * `offsetMs` away. Lease expiry and node liveness are decided by this clock, never by comparing two
 * machines' clocks. `offsetMs` is an integer from code, never input.
 */
export function storeNowSql(sqlite: boolean, offsetMs = 0): string {
  const ms = Math.trunc(offsetMs);
  if (sqlite) return `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '${ms / 1000} seconds')`;
  return `to_char((clock_timestamp() + interval '${ms} milliseconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** A node row with whether it is live (heartbeat within the liveness window, store clock). */
export interface NodeRow extends NodeEntity {
  live: boolean;
}

/** Nodes and the leader lease (ClusterModule's tables). */
@Injectable()
export class NodesRepository {
  constructor(private readonly db: DatabaseService) {}

  get isSqlite(): boolean {
    return this.db.isSqlite;
  }

  /** The store's clock now (ISO text). */
  async storeNow(): Promise<string> {
    const rows = await this.db.run((m) => m.query(`SELECT ${storeNowSql(this.db.isSqlite)} AS now`));
    return (rows as Array<{ now: string }>)[0].now;
  }

  get(id: string): Promise<NodeEntity | null> {
    return this.db.run((m) => m.getRepository(NodeEntity).findOneBy({ id }));
  }

  /** Rows of other processes that did not stop gracefully (SQLite: a second kernel on the file, whatever its node id). */
  othersRunning(bootId: string): Promise<NodeEntity[]> {
    return this.db.run((m) =>
      m
        .getRepository(NodeEntity)
        .createQueryBuilder('n')
        .where('n.boot_id <> :bootId AND n.stopped_at IS NULL', { bootId })
        .getMany(),
    );
  }

  /** Insert `row` (its `last_seen` and `started_at` by the store clock) unless the id exists; true if inserted. */
  async insertIfAbsent(row: Omit<NodeEntity, 'startedAt' | 'lastSeen'>): Promise<boolean> {
    const now = storeNowSql(this.db.isSqlite);
    await this.db.run((m) =>
      m
        .createQueryBuilder()
        .insert()
        .into(NodeEntity)
        .values({ ...row, startedAt: () => now, lastSeen: () => now })
        .orIgnore()
        .execute(),
    );
    // orIgnore: PostgreSQL ON CONFLICT DO NOTHING, SQLite INSERT OR IGNORE; read back who holds it.
    const held = await this.get(row.id);
    return held?.bootId === row.bootId;
  }

  /** Take the id over from the process `fromBootId` (the row read just before); false if it moved meanwhile. */
  async takeOver(fromBootId: string, row: Omit<NodeEntity, 'startedAt' | 'lastSeen'>): Promise<boolean> {
    const now = storeNowSql(this.db.isSqlite);
    const res = await this.db.run((m) =>
      m
        .createQueryBuilder()
        .update(NodeEntity)
        .set({ ...row, startedAt: () => now, lastSeen: () => now })
        .where('id = :id AND boot_id = :from', { id: row.id, from: fromBootId })
        .execute(),
    );
    return (res.affected ?? 0) > 0;
  }

  /** This process's heartbeat (one statement); false if another process holds the id now. */
  async beat(id: string, bootId: string, camerasHeld: number): Promise<boolean> {
    const now = storeNowSql(this.db.isSqlite);
    const res = await this.db.run((m) =>
      m
        .createQueryBuilder()
        .update(NodeEntity)
        .set({ lastSeen: () => now, camerasHeld })
        .where('id = :id AND boot_id = :bootId', { id, bootId })
        .execute(),
    );
    return (res.affected ?? 0) > 0;
  }

  /** A graceful stop: the id is free for the next kernel at once. */
  async markStopped(id: string, bootId: string): Promise<void> {
    const now = storeNowSql(this.db.isSqlite);
    await this.db.run((m) =>
      m
        .createQueryBuilder()
        .update(NodeEntity)
        .set({ stoppedAt: () => now, camerasHeld: 0 })
        .where('id = :id AND boot_id = :bootId', { id, bootId })
        .execute(),
    );
  }

  /** Every node, by id, with `live` = heartbeat within `liveMs` and not stopped (store clock). */
  async list(liveMs: number): Promise<NodeRow[]> {
    const since = storeNowSql(this.db.isSqlite, -liveMs);
    const raw = await this.db.run((m) =>
      m
        .getRepository(NodeEntity)
        .createQueryBuilder('n')
        .addSelect(`CASE WHEN n.stopped_at IS NULL AND n.last_seen > ${since} THEN 1 ELSE 0 END`, 'live')
        .orderBy('n.id', 'ASC')
        .getRawAndEntities(),
    );
    return raw.entities.map((e, i) => ({
      ...e,
      live: Number((raw.raw[i] as { live: unknown }).live) === 1,
    }));
  }

  /** Live nodes (heartbeat within `liveMs`, store clock). */
  async countLive(liveMs: number): Promise<number> {
    const since = storeNowSql(this.db.isSqlite, -liveMs);
    return this.db.run((m) =>
      m
        .getRepository(NodeEntity)
        .createQueryBuilder('n')
        .where(`n.stopped_at IS NULL AND n.last_seen > ${since}`)
        .getCount(),
    );
  }

  /**
   * Take the leader lease, or renew it (one statement): granted when the row is free, expired on
   * the store clock, or already this process's (`bootId`). True when this process holds it until
   * now + `ttlMs`.
   */
  async takeOrRenewLeader(nodeId: string, bootId: string, ttlMs: number): Promise<boolean> {
    const sqlite = this.db.isSqlite;
    const now = storeNowSql(sqlite);
    const until = storeNowSql(sqlite, ttlMs);
    const p = sqlite ? ['?', '?'] : ['$1', '$2'];
    const rows = await this.db.run((m) =>
      m.query(
        `INSERT INTO cluster_leader (name, node_id, boot_id, acquired_at, expires_at)
         VALUES ('${LEADER}', ${p[0]}, ${p[1]}, ${now}, ${until})
         ON CONFLICT (name) DO UPDATE SET
           node_id = excluded.node_id,
           boot_id = excluded.boot_id,
           expires_at = excluded.expires_at,
           acquired_at = CASE WHEN cluster_leader.boot_id = excluded.boot_id
                              THEN cluster_leader.acquired_at ELSE excluded.acquired_at END
         WHERE cluster_leader.boot_id = excluded.boot_id OR cluster_leader.expires_at < ${now}
         RETURNING boot_id`,
        [nodeId, bootId],
      ),
    );
    return (rows as Array<{ boot_id: string }>).some((r) => r.boot_id === bootId);
  }

  /**
   * Take the lease from `deadBootId` at once, whatever its expiry: only for a process known dead (its
   * node row was taken over because its pid is gone on this host). True if taken.
   */
  async takeLeaderFrom(deadBootId: string, nodeId: string, bootId: string, ttlMs: number): Promise<boolean> {
    const sqlite = this.db.isSqlite;
    const res = await this.db.run((m) =>
      m
        .createQueryBuilder()
        .update(ClusterLeaderEntity)
        .set({
          nodeId,
          bootId,
          acquiredAt: () => storeNowSql(sqlite),
          expiresAt: () => storeNowSql(sqlite, ttlMs),
        })
        .where('name = :name AND boot_id = :dead', { name: LEADER, dead: deadBootId })
        .execute(),
    );
    return (res.affected ?? 0) > 0;
  }

  /** Give the lease up (graceful stop): another node takes it at its next attempt. */
  async releaseLeader(bootId: string): Promise<void> {
    await this.db.run((m) => m.getRepository(ClusterLeaderEntity).delete({ name: LEADER, bootId }));
  }

  /** The node holding an unexpired lease (store clock), or null. */
  async leaderNodeId(): Promise<string | null> {
    const now = storeNowSql(this.db.isSqlite);
    const row = await this.db.run((m) =>
      m
        .getRepository(ClusterLeaderEntity)
        .createQueryBuilder('l')
        .where(`l.name = :name AND l.expires_at > ${now}`, { name: LEADER })
        .getOne(),
    );
    return row?.nodeId ?? null;
  }

  /** One live node (heartbeat within `liveMs`, not stopped; store clock), or null. */
  async getLive(id: string, liveMs: number): Promise<NodeEntity | null> {
    const since = storeNowSql(this.db.isSqlite, -liveMs);
    return this.db.run((m) =>
      m
        .getRepository(NodeEntity)
        .createQueryBuilder('n')
        .where(`n.id = :id AND n.stopped_at IS NULL AND n.last_seen > ${since}`, { id })
        .getOne(),
    );
  }

  /**
   * The value stored under `name` in `cluster_meta`, written as `value` when absent (insert if
   * absent, race-safe: of two nodes booting at once one writes, both read the same value back).
   */
  async metaOrInsert(name: string, value: string): Promise<string> {
    const now = storeNowSql(this.db.isSqlite);
    await this.db.run((m) =>
      m
        .createQueryBuilder()
        .insert()
        .into(ClusterMetaEntity)
        .values({ name, value, createdAt: () => now })
        .orIgnore()
        .execute(),
    );
    const row = await this.db.run((m) => m.getRepository(ClusterMetaEntity).findOneBy({ name }));
    if (!row) throw new Error(`cluster_meta: \`${name}\` was not readable right after its insert`);
    return row.value;
  }
}
