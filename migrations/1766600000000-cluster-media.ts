import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col, idCol } from './helpers';

/**
 * Cluster media (issue 18): `cluster_meta`, small named values the nodes agree on (`secret_check`:
 * a value derived from HELDAR_SECRET_KEY, written by the first node, compared by every other at
 * boot; never the key), and `clips.node_id`: the node whose disk holds a clip's file (NULL on a
 * single node or with shared storage), so another node can serve it through that one.
 */
export class ClusterMedia1766600000000 implements MigrationInterface {
  name = 'ClusterMedia1766600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'cluster_meta',
        columns: [idCol('name'), col('value'), col('created_at')],
      }),
    );
    await q.addColumn('clips', col('node_id', 'text', { isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('clips', 'node_id');
    await q.dropTable('cluster_meta');
  }
}
