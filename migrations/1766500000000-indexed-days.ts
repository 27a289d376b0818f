import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col } from './helpers';

/**
 * What the indexer's last reconciliation pass saw of each camera's day folder
 * (`<camera>/<YYYY-MM-DD>/`): the folder's mtime, read before it was listed, and how many
 * recording files it held, all of them indexed. A pass `stat`s the folder and lists it only when
 * its mtime differs (a file added, removed or renamed); retention clears a day's row as it deletes
 * that day's segments. No row: the folder is listed.
 */
export class IndexedDays1766500000000 implements MigrationInterface {
  name = 'IndexedDays1766500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'indexed_days',
        columns: [
          col('camera_id', 'text', { isPrimary: true }),
          col('day', 'text', { isPrimary: true }),
          col('mtime_ms', 'double precision'),
          col('files', 'integer'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('indexed_days');
  }
}
