import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { boolCol, col, idCol, timestamps } from './helpers';

/**
 * Snapshot schedules: a JPEG of a camera every `interval_seconds` (`snapshot_schedules`), each
 * stored under the data dir and listed in `snapshots` (read and pruned by camera and time:
 * index on (camera_id, taken_at), plus taken_at alone for the age sweep across cameras).
 */
export class Snapshots1766200000000 implements MigrationInterface {
  name = 'Snapshots1766200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'snapshot_schedules',
        columns: [
          idCol(),
          col('camera_id'),
          col('interval_seconds', 'integer', { default: 300 }),
          boolCol(q, 'enabled', true),
          ...timestamps(),
        ],
        indices: [new TableIndex({ name: 'idx_snapshot_schedules_camera', columnNames: ['camera_id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'snapshots',
        columns: [idCol(), col('camera_id'), col('taken_at'), col('path'), col('size_bytes', 'integer')],
        indices: [
          new TableIndex({ name: 'idx_snapshots_camera_taken', columnNames: ['camera_id', 'taken_at'] }),
          new TableIndex({ name: 'idx_snapshots_taken', columnNames: ['taken_at'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('snapshots');
    await q.dropTable('snapshot_schedules');
  }
}
