import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col, idCol } from './helpers';

/** Exported clips with their coverage and SHA-256. */
export class Clips1764300000000 implements MigrationInterface {
  name = 'Clips1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'clips',
        columns: [
          idCol(),
          col('camera_id'),
          col('file'),
          col('from_time'),
          col('to_time'),
          col('requested_seconds', 'double precision'),
          col('covered_seconds', 'double precision'),
          col('gaps', 'text', { default: "'[]'" }),
          col('segment_count', 'integer'),
          col('size_bytes', 'bigint'),
          col('sha256'),
          col('created_by'),
          col('created_by_name', 'text', { isNullable: true }),
          col('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'idx_clips_camera_created', columnNames: ['camera_id', 'created_at'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('clips');
  }
}
