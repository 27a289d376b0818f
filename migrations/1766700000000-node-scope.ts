import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col } from './helpers';

/**
 * Per-node state in a cluster with per-node storage (issue 18).
 * - `indexed_days` is keyed by node too: after a failover within a day each node has its own
 *   folder for that day on its own disk, and one shared row let one node's pass skip the other's
 *   files or list them again forever. `node_id` is the node whose disk holds the folder, '' on a
 *   single node and with shared storage (a key column cannot be NULL). The table only spares a
 *   pass some listings (no row: the folder is listed), so it is made anew rather than copied.
 * - `snapshots.node_id`: the node whose data dir holds the JPEG (NULL on a single node or with
 *   shared storage), like `segments.node_id`; each node prunes only its own files.
 */
export class NodeScope1766700000000 implements MigrationInterface {
  name = 'NodeScope1766700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.dropTable('indexed_days');
    await q.createTable(indexedDays(true));
    await q.addColumn('snapshots', col('node_id', 'text', { isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('snapshots', 'node_id');
    await q.dropTable('indexed_days');
    await q.createTable(indexedDays(false));
  }
}

function indexedDays(byNode: boolean): Table {
  return new Table({
    name: 'indexed_days',
    columns: [
      col('camera_id', 'text', { isPrimary: true }),
      ...(byNode ? [col('node_id', 'text', { isPrimary: true })] : []),
      col('day', 'text', { isPrimary: true }),
      col('mtime_ms', 'double precision'),
      col('files', 'integer'),
    ],
  });
}
