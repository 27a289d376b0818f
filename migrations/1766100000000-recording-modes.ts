import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { boolCol, col, idCol, timestamps } from './helpers';

/**
 * Recording modes: a camera records `continuous` (as every camera did before), `scheduled`,
 * `event` or `scheduled_event`, with pre- and post-roll seconds for event recording; weekly
 * recording windows live in `recording_schedules`. Existing cameras stay continuous.
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('recording_schedules');
    await q.dropColumn('cameras', 'post_roll_seconds');
    await q.dropColumn('cameras', 'pre_roll_seconds');
    await q.dropColumn('cameras', 'record_mode');
  }
}
