import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { boolCol, col, idCol, seqCol } from './helpers';

/** Webhook subscriptions, one delivery per (subscription, event), and a ledger row per attempt. */
export class Webhooks1764500000000 implements MigrationInterface {
  name = 'Webhooks1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'webhooks',
        columns: [
          idCol(),
          col('name'),
          col('url'),
          col('event_types', 'text', { default: `'["*"]'` }),
          col('min_severity', 'text', { default: `'info'` }),
          col('secret'),
          boolCol(q, 'enabled', true),
          col('module_id', 'text', { isNullable: true }),
          col('cursor_seq', 'integer', { default: 0 }),
          col('consecutive_failures', 'integer', { default: 0 }),
          boolCol(q, 'failing', false),
          col('last_success_at', 'text', { isNullable: true }),
          col('last_failure_at', 'text', { isNullable: true }),
          col('created_at'),
          col('updated_at'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webhook_deliveries',
        columns: [
          idCol(),
          col('webhook_id'),
          col('event_seq', 'integer'),
          col('event_type'),
          col('status'),
          col('attempts', 'integer', { default: 0 }),
          col('next_attempt_at', 'text', { isNullable: true }),
          col('last_status_code', 'integer', { isNullable: true }),
          col('last_error', 'text', { isNullable: true }),
          col('delivered_at', 'text', { isNullable: true }),
          col('created_at'),
          col('updated_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_webhook_deliveries_event',
            columnNames: ['webhook_id', 'event_seq'],
            isUnique: true,
          }),
          new TableIndex({ name: 'idx_webhook_deliveries_due', columnNames: ['status', 'next_attempt_at'] }),
          new TableIndex({ name: 'idx_webhook_deliveries_created', columnNames: ['created_at'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webhook_attempts',
        columns: [
          seqCol('id'),
          col('delivery_id'),
          col('webhook_id'),
          col('attempt', 'integer'),
          col('ok', 'boolean'),
          col('status_code', 'integer', { isNullable: true }),
          col('error', 'text', { isNullable: true }),
          col('duration_ms', 'integer'),
          col('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'idx_webhook_attempts_delivery', columnNames: ['delivery_id'] }),
          new TableIndex({ name: 'idx_webhook_attempts_created', columnNames: ['created_at'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('webhook_attempts');
    await q.dropTable('webhook_deliveries');
    await q.dropTable('webhooks');
  }
}
