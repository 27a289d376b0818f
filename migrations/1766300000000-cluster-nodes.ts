import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col, idCol } from './helpers';

/**
 * Cluster (issue 18): `nodes`, one row per kernel sharing this store (its heartbeat: `last_seen`,
 * and who holds the id now: `boot_id`, `host`, `pid`; a graceful stop sets `stopped_at`), and
 * `cluster_leader`, the leader lease (one row, `name` = 'leader'; held by `boot_id` until
 * `expires_at`, on the database clock). Timestamps are ISO-8601 UTC text like every other table.
 */
export class ClusterNodes1766300000000 implements MigrationInterface {
  name = 'ClusterNodes1766300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'nodes',
        columns: [
          idCol(),
          col('url'),
          col('version'),
          col('started_at'),
          col('last_seen'),
          col('capacity', 'integer'),
          col('cameras_held', 'integer', { default: 0 }),
          col('boot_id'),
          col('host'),
          col('pid', 'integer'),
          col('stopped_at', 'text', { isNullable: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'cluster_leader',
        columns: [idCol('name'), col('node_id'), col('boot_id'), col('acquired_at'), col('expires_at')],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('cluster_leader');
    await q.dropTable('nodes');
  }
}
