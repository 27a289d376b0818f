import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HeldarConfig } from '../config/heldar-config';
import { maskUrl } from '../common/redaction';
import { openDataSource } from './data-source';
import { DatabaseService } from './database.service';
import { WalCheckpointer } from './wal-checkpointer';

@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [HeldarConfig],
      useFactory: async (cfg: HeldarConfig) => {
        const ds = await openDataSource(cfg);
        new Logger('Database').log(`store ready: ${maskUrl(cfg.databaseUrl)} (migrations applied)`);
        return ds;
      },
    },
    DatabaseService,
    WalCheckpointer,
  ],
  exports: [DataSource, DatabaseService, WalCheckpointer],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
