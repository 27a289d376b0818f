import { Global, Logger, Module } from '@nestjs/common';
import { HeldarConfig } from '../config/heldar-config';
import { Clock } from './clock';
import { loadOrCreateSecretKey, SecretBox } from './secret-box';

@Global()
@Module({
  providers: [
    Clock,
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
  exports: [Clock, SecretBox],
})
export class CommonModule {}
