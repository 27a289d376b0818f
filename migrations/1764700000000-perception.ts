import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { boolCol, col, idCol, seqCol } from './helpers';

/** AI tasks, workers, the ingest outbox, detections, consumer fan-out claims, zones and zone events. */
export class Perception1764700000000 implements MigrationInterface {
  name = 'Perception1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'ai_tasks',
        columns: [
          idCol(),
          col('camera_id'),
          col('task_type'),
          boolCol(q, 'enabled', true),
          col('stream_profile', 'text', { default: `'sub'` }),
          col('fps', 'double precision'),
          col('width', 'integer'),
          col('config', 'text', { default: `'{}'` }),
          col('created_at'),
          col('updated_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_ai_tasks_camera_type_profile',
            columnNames: ['camera_id', 'task_type', 'stream_profile'],
            isUnique: true,
          }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'ai_workers',
        columns: [idCol('worker_id'), col('credential'), col('last_seen')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'outbox',
        columns: [
          seqCol(),
          col('topic'),
          col('camera_id'),
          col('site_id', 'text', { isNullable: true }),
          col('frame_id', 'text', { isNullable: true }),
          col('task_type'),
          col('detection_count', 'integer', { default: 0 }),
          col('provenance'),
          col('produced_by'),
          col('batch_timestamp'),
          col('created_at'),
          col('fanned_out_at', 'text', { isNullable: true }),
        ],
        indices: [
          new TableIndex({
            name: 'uq_outbox_camera_frame',
            columnNames: ['camera_id', 'frame_id'],
            isUnique: true,
          }),
          new TableIndex({ name: 'idx_outbox_created', columnNames: ['created_at'] }),
          new TableIndex({ name: 'idx_outbox_unfanned', columnNames: ['fanned_out_at', 'seq'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'detections',
        columns: [
          idCol(),
          col('camera_id'),
          col('task_type'),
          col('timestamp'),
          col('label'),
          col('confidence', 'double precision', { isNullable: true }),
          col('bbox', 'text', { isNullable: true }),
          col('track_id', 'text', { isNullable: true }),
          col('attributes', 'text', { default: `'{}'` }),
          col('frame_id', 'text', { isNullable: true }),
          col('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'idx_detections_camera_ts', columnNames: ['camera_id', 'timestamp'] }),
          new TableIndex({ name: 'idx_detections_camera_frame', columnNames: ['camera_id', 'frame_id'] }),
          new TableIndex({ name: 'idx_detections_created', columnNames: ['created_at'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'consumer_fanout',
        columns: [
          col('consumer', 'text', { isPrimary: true }),
          col('camera_id', 'text', { isPrimary: true }),
          col('frame_id', 'text', { isPrimary: true }),
          col('fanned_at'),
        ],
        indices: [new TableIndex({ name: 'idx_consumer_fanout_at', columnNames: ['fanned_at'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['consumer_fanout', 'detections', 'outbox', 'ai_workers', 'ai_tasks'])
      await q.dropTable(t);
  }
}
