import { type DynamicModule, Global, Module } from '@nestjs/common';
import { HeldarConfig } from './heldar-config';

/** Provides the already-validated HeldarConfig (parsed once in main.ts or by a test). */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: HeldarConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: HeldarConfig, useValue: config }],
      exports: [HeldarConfig],
    };
  }
}
