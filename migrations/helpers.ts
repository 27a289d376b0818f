import { type QueryRunner, TableColumn, type TableColumnOptions } from 'typeorm';

/**
 * Column builders for migrations. Migrations use TypeORM's portable Table API (not raw SQL),
 * so one migration produces the right DDL on SQLite and PostgreSQL; the drift check
 * (`npm run migration:check`, and a medium test) proves the result matches the entities.
 * Timestamps are ISO-8601 UTC TEXT on both engines (sortable, identical round-trip).
 */
export function col(name: string, type = 'text', extra: Partial<TableColumnOptions> = {}): TableColumn {
  return new TableColumn({ name, type, isNullable: false, ...extra });
}

export function idCol(name = 'id'): TableColumn {
  return col(name, 'text', { isPrimary: true });
}

/** Monotonic integer key (events, audit, outbox …): INTEGER AUTOINCREMENT / SERIAL. */
export function seqCol(name = 'seq'): TableColumn {
  return col(name, 'integer', { isPrimary: true, isGenerated: true, generationStrategy: 'increment' });
}

export function timestamps(): TableColumn[] {
  return [col('created_at'), col('updated_at')];
}

/** Boolean with a default, spelled as each engine stores it (SQLite 1/0, PostgreSQL true/false). */
export function boolCol(q: QueryRunner, name: string, def: boolean): TableColumn {
  const sqlite = q.connection.driver.options.type === 'better-sqlite3';
  return col(name, 'boolean', { default: sqlite ? (def ? 1 : 0) : String(def) });
}
