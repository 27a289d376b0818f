import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { HeldarConfig } from '../config/heldar-config';
import { MIGRATIONS } from '../../migrations';

export const SQLITE_BUSY_TIMEOUT_MS = 15_000;
export const PG_ACQUIRE_TIMEOUT_MS = 20_000;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityClass = Function;

/**
 * DataSource options for either engine. Never `synchronize`: migrations own the schema. The
 * entities are given by the composition root (`src/app.entities.ts`): `database/` knows no module.
 */
export function dataSourceOptions(
  cfg: Pick<HeldarConfig, 'databaseUrl' | 'isSqlite' | 'sqlitePath' | 'dbMaxConnections'>,
  entities: readonly EntityClass[],
): DataSourceOptions {
  const common = {
    entities: [...entities] as EntityClass[],
    migrations: [...MIGRATIONS] as EntityClass[],
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
  } as const;
  if (cfg.isSqlite) {
    const path = cfg.sqlitePath;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: path,
      timeout: SQLITE_BUSY_TIMEOUT_MS,
      prepareDatabase: (db: { pragma: (s: string) => unknown }) => {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
        db.pragma('foreign_keys = ON');
      },
    };
  }
  return {
    ...common,
    type: 'postgres',
    url: cfg.databaseUrl,
    poolSize: cfg.dbMaxConnections,
    extra: { connectionTimeoutMillis: PG_ACQUIRE_TIMEOUT_MS, max: cfg.dbMaxConnections },
  };
}

/**
 * The SQLite file and its `-wal`/`-shm` companions hold every credential the kernel keeps: owner
 * read/write only (0600), like `secret.key`. The file is created 0600 before SQLite opens it
 * (SQLite gives the WAL and SHM files its mode when it creates them), and files an older version
 * left 0644 are narrowed. Called before opening and again once WAL is on.
 */
export function restrictSqliteFiles(path: string): void {
  if (path === ':memory:') return;
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

/** Open the store and bring its schema up to date. */
export async function openDataSource(
  cfg: Parameters<typeof dataSourceOptions>[0],
  entities: readonly EntityClass[],
): Promise<DataSource> {
  const options = dataSourceOptions(cfg, entities);
  if (cfg.isSqlite) restrictSqliteFiles(cfg.sqlitePath);
  const ds = new DataSource(options);
  await ds.initialize();
  try {
    if (cfg.isSqlite) await ds.runMigrations({ transaction: 'each' });
    else await migrateExclusively(ds);
    if (cfg.isSqlite) restrictSqliteFiles(cfg.sqlitePath);
  } catch (err) {
    await ds.destroy();
    throw err;
  }
  return ds;
}

/** The PostgreSQL advisory lock key under which a kernel migrates ("HELD"). */
export const MIGRATION_LOCK_KEY = 0x48454c44;

/**
 * PostgreSQL: migrate while holding a session advisory lock, so kernels started together on one
 * database (the nodes of a cluster) migrate one after the other; the next finds nothing to do.
 * Without it, two creating the `migrations` table or one migration's tables at once fail on
 * PostgreSQL's unique catalog keys and the kernel exits during boot.
 */
async function migrateExclusively(ds: DataSource): Promise<void> {
  const lock = ds.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await ds.runMigrations({ transaction: 'each' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lock.release();
  }
}

/** SQL statements TypeORM would run to make the schema match the entities (empty = no drift). */
export async function schemaDrift(ds: DataSource): Promise<string[]> {
  const log = await ds.driver.createSchemaBuilder().log();
  return log.upQueries.map((q) => q.query);
}
