import { type MigrationInterface, type QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';
import { boolCol, col, idCol } from './helpers';

/** Users, sessions, API keys; the audit log becomes hash-chained and refuses UPDATE. */
export class Auth1764200000000 implements MigrationInterface {
  name = 'Auth1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'users',
        columns: [
          idCol(),
          col('username', 'text', { isUnique: true }),
          col('password_hash'),
          col('role', 'text', { default: "'viewer'" }),
          col('display_name', 'text', { isNullable: true }),
          boolCol(q, 'active', true),
          col('failed_login_count', 'integer', { default: 0 }),
          col('locked_until', 'text', { isNullable: true }),
          col('created_at'),
          col('updated_at'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [idCol(), col('user_id'), col('created_at'), col('expires_at'), col('last_used_at')],
        indices: [new TableIndex({ name: 'idx_sessions_user', columnNames: ['user_id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          idCol(),
          col('name'),
          col('key_hash', 'text', { isUnique: true }),
          col('key_prefix'),
          col('role', 'text', { default: "'integration'" }),
          col('capabilities', 'text', { isNullable: true }),
          col('scope_kind', 'text', { default: "'all'" }),
          col('scope_cameras', 'text', { isNullable: true }),
          boolCol(q, 'active', true),
          col('expires_at', 'text', { isNullable: true }),
          col('revoked_at', 'text', { isNullable: true }),
          col('last_used_at', 'text', { isNullable: true }),
          col('created_at'),
        ],
      }),
    );
    await q.addColumns('audit_log', [
      new TableColumn({ name: 'prev_hash', type: 'text', isNullable: false, default: "''" }),
      new TableColumn({ name: 'hash', type: 'text', isNullable: false, default: "''" }),
    ]);
    if (q.connection.driver.options.type === 'better-sqlite3') {
      await q.query(
        `CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
         BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
      );
    } else {
      await q.query(
        `CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`,
      );
      await q.query(
        `CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
         FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (q.connection.driver.options.type === 'better-sqlite3') {
      await q.query('DROP TRIGGER IF EXISTS audit_log_append_only');
    } else {
      await q.query('DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log');
      await q.query('DROP FUNCTION IF EXISTS audit_log_append_only()');
    }
    await q.dropColumns('audit_log', ['prev_hash', 'hash']);
    for (const t of ['api_keys', 'sessions', 'users']) await q.dropTable(t);
  }
}
