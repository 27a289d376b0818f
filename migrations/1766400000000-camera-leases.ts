import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from './helpers';

/**
 * Cluster (issue 18): which node records which camera. `camera_leases` holds one expiring lease
 * per recorded camera (times are ISO-8601 UTC text written from the DATABASE clock, so no two
 * machines' clocks are ever compared); index on node_id for the one-statement renewal. Segments
 * and recorder runs name the node they belong to (`node_id`: the node whose disk holds the file /
 * whose ffmpeg ran; NULL on a single node or shared storage), so a node's reconciliation, its
 * retention and its boot never touch another node's rows.
 */
export class CameraLeases1766400000000 implements MigrationInterface {
  name = 'CameraLeases1766400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'camera_leases',
        columns: [
          col('camera_id', 'text', { isPrimary: true }),
          col('node_id'),
          col('expires_at'),
          col('acquired_at'),
        ],
        indices: [new TableIndex({ name: 'idx_camera_leases_node', columnNames: ['node_id'] })],
      }),
    );
    await q.addColumn('segments', col('node_id', 'text', { isNullable: true }));
    await q.addColumn('recorder_runs', col('node_id', 'text', { isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('recorder_runs', 'node_id');
    await q.dropColumn('segments', 'node_id');
    await q.dropTable('camera_leases');
  }
}
