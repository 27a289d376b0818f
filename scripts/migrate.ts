import 'reflect-metadata';
import { config as loadDotenv } from 'dotenv';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/heldar-config';
import { dataSourceOptions, restrictSqliteFiles, schemaDrift } from '../src/database/data-source';
import { ENTITIES } from '../src/app.entities';

/**
 * `run`: apply pending migrations; `revert`: undo the last one; `check`: fail when the entities
 * and the migrated schema differ (prints the SQL TypeORM would need).
 */
async function main(cmd: string | undefined): Promise<number> {
  loadDotenv({ quiet: true });
  const cfg = loadConfig(process.env);
  const ds = new DataSource(dataSourceOptions(cfg, ENTITIES));
  if (cfg.isSqlite) restrictSqliteFiles(cfg.sqlitePath);
  await ds.initialize();
  try {
    if (cmd === 'run') {
      const done = await ds.runMigrations({ transaction: 'each' });
      console.log(done.length ? `applied: ${done.map((m) => m.name).join(', ')}` : 'schema is up to date');
    } else if (cmd === 'revert') {
      await ds.undoLastMigration({ transaction: 'each' });
      console.log('reverted the last migration');
    } else if (cmd === 'check') {
      await ds.runMigrations({ transaction: 'each' });
      const drift = await schemaDrift(ds);
      if (drift.length > 0) {
        console.error(`migrations drift from the entities; missing:\n${drift.join(';\n')}`);
        return 1;
      }
      console.log('migrations match the entities');
    } else {
      console.error('usage: migrate run|revert|check');
      return 2;
    }
    return 0;
  } finally {
    await ds.destroy();
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
