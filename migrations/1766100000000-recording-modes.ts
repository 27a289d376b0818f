import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { boolCol, col, idCol, timestamps } from './helpers';

/**
 * Recording modes: a camera records `continuous` (as every camera did before), `scheduled`,
 * `event` or `scheduled_event`, with pre- and post-roll seconds for event recording; weekly
 * recording windows live in `recording_schedules`. Existing cameras stay continuous. Event
 * recording keeps a segment only when it overlaps a keep window (`keep_windows`, opened and
 * extended by triggers); `keep_cursors` holds how far each event camera's segments are decided,
 * and `segments.kept_by` says why a segment exists.
 */
export class RecordingModes1766100000000 implements MigrationInterface {
  name = 'RecordingModes1766100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('cameras', [
      col('record_mode', 'text', { default: `'continuous'` }),
      col('pre_roll_seconds', 'integer', { default: 10 }),
      col('post_roll_seconds', 'integer', { default: 30 }),
    ]);
    await q.createTable(
      new Table({
        name: 'recording_schedules',
        columns: [
          idCol(),
          col('camera_id'),
          col('days'),
          col('time_start'),
          col('time_end'),
          boolCol(q, 'enabled', true),
          ...timestamps(),
        ],
        indices: [new TableIndex({ name: 'idx_recording_schedules_camera', columnNames: ['camera_id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'keep_windows',
        columns: [
          idCol(),
          col('camera_id'),
          col('start_time'),
          col('end_time'),
          col('reason'),
          col('trigger_count', 'integer', { default: 1 }),
          ...timestamps(),
        ],
        indices: [
          new TableIndex({ name: 'idx_keep_windows_camera_end', columnNames: ['camera_id', 'end_time'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'keep_cursors',
        columns: [col('camera_id', 'text', { isPrimary: true }), col('decided_until')],
      }),
    );
    // A plain ALTER: TypeORM's addColumn rebuilds a SQLite table, and segments can hold millions of rows.
    await q.query('ALTER TABLE segments ADD COLUMN kept_by text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('segments', 'kept_by');
    await q.dropTable('keep_cursors');
    await q.dropTable('keep_windows');
    await q.dropTable('recording_schedules');
    await q.dropColumn('cameras', 'post_roll_seconds');
    await q.dropColumn('cameras', 'pre_roll_seconds');
    await q.dropColumn('cameras', 'record_mode');
  }
}
