import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * Module records carry why a module is down (`reason`) and since when it is in its state
 * (`since`). Sidecars registered before this get their record (kind `sidecar`), its state taken
 * from their last health probe. Settings values are sealed at boot by the settings service (the
 * key is not known to a migration), as camera credentials and webhook secrets are.
 */
export class ModuleLifecycle1765800000000 implements MigrationInterface {
  name = 'ModuleLifecycle1765800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('module_records', new TableColumn({ name: 'reason', type: 'text', isNullable: true }));
    await q.addColumn('module_records', new TableColumn({ name: 'since', type: 'text', isNullable: true }));
    await q.query('UPDATE module_records SET since = updated_at');
    await q.query(
      `INSERT INTO module_records (id, name, version, kind, state, description, updated_at, reason, since)
       SELECT s.id, s.name, s.version, 'sidecar',
              CASE s.health WHEN 'healthy' THEN 'running' WHEN 'unreachable' THEN 'failed' ELSE 'loaded' END,
              s.description, s.updated_at,
              CASE s.health WHEN 'unreachable' THEN s.health_error ELSE NULL END,
              COALESCE(s.health_checked_at, s.updated_at)
         FROM sidecar_modules s
        WHERE NOT EXISTS (SELECT 1 FROM module_records r WHERE r.id = s.id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM module_records WHERE kind = 'sidecar'`);
    await q.dropColumn('module_records', 'since');
    await q.dropColumn('module_records', 'reason');
  }
}
