import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col, idCol } from './helpers';

/** Registered sidecar apps: their origin, minted key and webhook, nav entries and health. */
export class Modules1764600000000 implements MigrationInterface {
  name = 'Modules1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'sidecar_modules',
        columns: [
          idCol(),
          col('name'),
          col('version', 'text', { default: `'0.0.0'` }),
          col('description', 'text', { isNullable: true }),
          col('base_url'),
          col('role'),
          col('api_key_id'),
          col('webhook_id'),
          col('nav', 'text', { default: `'[]'` }),
          col('health', 'text', { default: `'unknown'` }),
          col('health_checked_at', 'text', { isNullable: true }),
          col('health_error', 'text', { isNullable: true }),
          col('created_at'),
          col('updated_at'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('sidecar_modules');
  }
}
