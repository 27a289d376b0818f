import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { boolCol, col, idCol, seqCol, timestamps } from './helpers';

/** Foundation: sites, cameras, events, audit log, settings and module records. */
export class Foundation1764000000000 implements MigrationInterface {
  name = 'Foundation1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'sites',
        columns: [idCol(), col('name'), col('timezone', 'text', { default: "'UTC'" }), ...timestamps()],
      }),
    );

    await q.createTable(
      new Table({
        name: 'cameras',
        columns: [
          idCol(),
          col('site_id', 'text', { isNullable: true }),
          col('name'),
          col('vendor', 'text', { default: "'generic'" }),
          col('model', 'text', { isNullable: true }),
          col('address', 'text', { isNullable: true }),
          col('rtsp_port', 'integer', { isNullable: true }),
          col('channel', 'integer', { default: 1 }),
          col('username', 'text', { isNullable: true }),
          col('password', 'text', { isNullable: true }),
          col('main_stream_url', 'text', { isNullable: true }),
          col('sub_stream_url', 'text', { isNullable: true }),
          col('url_template', 'text', { isNullable: true }),
          col('record_stream', 'text', { default: "'main'" }),
          boolCol(q, 'record_enabled', true),
          col('segment_seconds', 'integer', { default: 60 }),
          col('retention_hours', 'integer', { default: 24 }),
          col('storage_quota_bytes', 'bigint', { isNullable: true }),
          boolCol(q, 'record_audio', false),
          boolCol(q, 'enabled', true),
          col('priority', 'integer', { default: 100 }),
          ...timestamps(),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_cameras_site',
            columnNames: ['site_id'],
            referencedTableName: 'sites',
            referencedColumnNames: ['id'],
            onDelete: 'SET NULL',
          }),
        ],
        indices: [new TableIndex({ name: 'idx_cameras_site', columnNames: ['site_id'] })],
      }),
    );

    await q.createTable(
      new Table({
        name: 'events',
        columns: [
          seqCol(),
          col('id'),
          col('camera_id', 'text', { isNullable: true }),
          col('site_id', 'text', { isNullable: true }),
          col('event_type'),
          col('severity', 'text', { default: "'info'" }),
          col('timestamp'),
          col('payload', 'text', { default: "'{}'" }),
          col('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'uq_events_id', columnNames: ['id'], isUnique: true }),
          new TableIndex({ name: 'idx_events_camera_seq', columnNames: ['camera_id', 'seq'] }),
          new TableIndex({ name: 'idx_events_type_seq', columnNames: ['event_type', 'seq'] }),
          new TableIndex({ name: 'idx_events_timestamp', columnNames: ['timestamp'] }),
          new TableIndex({ name: 'idx_events_created', columnNames: ['created_at'] }),
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          seqCol(),
          col('id'),
          col('actor_kind'),
          col('actor_id'),
          col('actor_name', 'text', { isNullable: true }),
          col('role', 'text', { isNullable: true }),
          col('action'),
          col('target_type', 'text', { isNullable: true }),
          col('target_id', 'text', { isNullable: true }),
          col('detail', 'text', { default: "'{}'" }),
          col('subject_camera_id', 'text', { isNullable: true }),
          col('request_id', 'text', { isNullable: true }),
          col('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'uq_audit_id', columnNames: ['id'], isUnique: true }),
          new TableIndex({ name: 'idx_audit_created', columnNames: ['created_at'] }),
          new TableIndex({ name: 'idx_audit_actor', columnNames: ['actor_id'] }),
          new TableIndex({ name: 'idx_audit_subject_camera', columnNames: ['subject_camera_id'] }),
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'settings',
        columns: [
          col('key', 'text', { isPrimary: true }),
          col('value'),
          boolCol(q, 'secret', false),
          col('updated_at'),
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'module_records',
        columns: [
          idCol(),
          col('name'),
          col('version'),
          col('kind'),
          col('state'),
          col('description', 'text', { isNullable: true }),
          col('updated_at'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['module_records', 'settings', 'audit_log', 'events', 'cameras', 'sites']) {
      await q.dropTable(t);
    }
  }
}
