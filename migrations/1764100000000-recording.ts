import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { boolCol, col, idCol, seqCol } from './helpers';

/** Recording and the timeline: camera status, recorder runs, segments, gaps with causes.
 * No foreign keys to `cameras`: each module owns its rows and removes them itself. */
export class Recording1764100000000 implements MigrationInterface {
  name = 'Recording1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'camera_status',
        columns: [
          col('camera_id', 'text', { isPrimary: true }),
          col('state', 'text', { default: "'unknown'" }),
          col('last_segment_at', 'text', { isNullable: true }),
          col('last_started_at', 'text', { isNullable: true }),
          col('reconnect_count', 'integer', { default: 0 }),
          col('segments_written', 'integer', { default: 0 }),
          col('fps_observed', 'double precision', { isNullable: true }),
          col('bitrate_kbps', 'double precision', { isNullable: true }),
          col('last_error', 'text', { isNullable: true }),
          col('pid', 'integer', { isNullable: true }),
          col('updated_at'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'recorder_runs',
        columns: [
          seqCol('id'),
          col('camera_id'),
          col('started_at'),
          col('ended_at', 'text', { isNullable: true }),
          col('end_reason', 'text', { isNullable: true }),
          col('detail', 'text', { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'idx_recorder_runs_camera_end', columnNames: ['camera_id', 'ended_at'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'segments',
        columns: [
          idCol(),
          col('camera_id'),
          col('path'),
          col('start_time'),
          col('end_time'),
          col('duration_s', 'double precision'),
          col('codec', 'text', { isNullable: true }),
          col('width', 'integer', { isNullable: true }),
          col('height', 'integer', { isNullable: true }),
          col('fps', 'double precision', { isNullable: true }),
          col('size_bytes', 'bigint', { default: 0 }),
          col('container', 'text', { default: "'mp4'" }),
          col('locked', 'integer', { default: 0 }),
          boolCol(q, 'evidence_locked', false),
          col('incident_id', 'text', { isNullable: true }),
          col('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'uq_segments_path', columnNames: ['path'], isUnique: true }),
          new TableIndex({ name: 'idx_segments_camera_start', columnNames: ['camera_id', 'start_time'] }),
          new TableIndex({ name: 'idx_segments_end', columnNames: ['end_time'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'recording_gaps',
        columns: [
          idCol(),
          col('camera_id'),
          col('gap_start'),
          col('gap_end'),
          col('gap_seconds', 'double precision'),
          col('cause', 'text', { default: "'unknown'" }),
          col('fill_state', 'text', { default: "'pending'" }),
          col('created_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_recording_gaps_camera_start',
            columnNames: ['camera_id', 'gap_start'],
            isUnique: true,
          }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['recording_gaps', 'segments', 'recorder_runs', 'camera_status']) await q.dropTable(t);
  }
}
