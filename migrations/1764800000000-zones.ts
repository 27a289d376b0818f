import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { boolCol, col, idCol } from './helpers';

/** Zones, the events the zone engine emits, and live occupancy per zone. */
export class Zones1764800000000 implements MigrationInterface {
  name = 'Zones1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'zones',
        columns: [
          idCol(),
          col('camera_id'),
          col('name'),
          col('kind', 'text', { default: `'region'` }),
          col('polygon'),
          col('dwell_seconds', 'double precision', { default: 0 }),
          col('labels', 'text', { default: `'[]'` }),
          col('severity', 'text', { default: `'info'` }),
          col('config', 'text', { default: `'{}'` }),
          boolCol(q, 'enabled', true),
          col('created_at'),
          col('updated_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_zones_camera_name',
            columnNames: ['camera_id', 'name'],
            isUnique: true,
          }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'zone_events',
        columns: [
          idCol(),
          col('camera_id'),
          col('zone_id'),
          col('zone_name'),
          col('track_id'),
          col('event_type'),
          col('label'),
          col('timestamp'),
          col('dwell_seconds', 'double precision', { isNullable: true }),
          col('evidence_path', 'text', { isNullable: true }),
          col('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'idx_zone_events_camera_ts', columnNames: ['camera_id', 'timestamp'] }),
          new TableIndex({ name: 'idx_zone_events_zone_ts', columnNames: ['zone_id', 'timestamp'] }),
          new TableIndex({ name: 'idx_zone_events_created', columnNames: ['created_at'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'zone_occupancy',
        columns: [
          idCol('zone_id'),
          col('camera_id'),
          col('count', 'integer', { default: 0 }),
          col('updated_at'),
        ],
        indices: [new TableIndex({ name: 'idx_zone_occupancy_camera', columnNames: ['camera_id'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['zone_occupancy', 'zone_events', 'zones']) await q.dropTable(t);
  }
}
