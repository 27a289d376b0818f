import { Global, Logger, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { HeldarConfig } from '../config/heldar-config';
import { Clock } from './clock';
import { Leadership } from './leadership';
import { Loops } from './loops';
import { RowRetention } from './row-retention';
import { loadOrCreateSecretKey, SecretBox } from './secret-box';

@Global()
@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [
    Clock,
    Leadership,
    Loops,
    RowRetention,
    {
      provide: SecretBox,
      inject: [HeldarConfig],
      useFactory: (cfg: HeldarConfig) => {
        const { key, source } = loadOrCreateSecretKey(cfg.secretKey, cfg.secretKeyFile);
        const where = source === 'env' ? 'HELDAR_SECRET_KEY' : cfg.secretKeyFile;
        new Logger('SecretBox').log(
          `${source === 'generated' ? 'generated' : 'loaded'} secret key (${where})`,
        );
        return new SecretBox(key);
      },
    },
  ],
  exports: [Clock, SecretBox, Leadership, Loops, RowRetention],
})
export class CommonModule {}
