import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * Webhook subscriptions get a camera scope (null = every camera, else a JSON list of camera ids).
 * A sidecar's webhook takes the scope of the sidecar's API key, so a sidecar registered before
 * this migration with `camera_ids` stops receiving other cameras' events.
 */
export class WebhookCameraScope1765000000000 implements MigrationInterface {
  name = 'WebhookCameraScope1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('webhooks', new TableColumn({ name: 'camera_scope', type: 'text', isNullable: true }));
    await q.query(
      `UPDATE webhooks SET camera_scope = (
         SELECT k.scope_cameras FROM sidecar_modules m JOIN api_keys k ON k.id = m.api_key_id
          WHERE m.webhook_id = webhooks.id AND k.scope_kind = 'cameras')
       WHERE module_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('webhooks', 'camera_scope');
  }
}
