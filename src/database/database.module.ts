import {
  type DynamicModule,
  Global,
  Inject,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HeldarConfig } from '../config/heldar-config';
import { maskUrl } from '../common/redaction';
import { type EntityClass, openDataSource } from './data-source';
import { DatabaseService } from './database.service';
import { WalCheckpointer } from './wal-checkpointer';

/**
 * The store: one DataSource (migrations applied) and the DatabaseService every repository uses.
 * Global because it is infrastructure every module's repository needs, like config and logging; the
 * entities come from the composition root (`DatabaseModule.forRoot(ENTITIES)` in app.module.ts).
 */
@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  static forRoot(entities: readonly EntityClass[]): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DataSource,
          inject: [HeldarConfig],
          useFactory: async (cfg: HeldarConfig) => {
            const ds = await openDataSource(cfg, entities);
            new Logger('Database').log(`store ready: ${maskUrl(cfg.databaseUrl)} (migrations applied)`);
            return ds;
          },
        },
        DatabaseService,
        WalCheckpointer,
      ],
      exports: [DataSource, DatabaseService, WalCheckpointer],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
