import { GLOBAL_MODULE_METADATA } from '@nestjs/common/constants';
import type { DynamicModule, Type } from '@nestjs/common';
import { AppModule } from './app.module';
import type { HeldarConfig } from './config/heldar-config';

/** The kernel's modules, each as its class and whether it (or its dynamic form) is global. */
function modules(): Array<{ name: string; global: boolean }> {
  const imports = AppModule.register({} as HeldarConfig).imports ?? [];
  return imports.map((m) => {
    const dyn = m as DynamicModule;
    const cls = (dyn.module ?? m) as Type<unknown>;
    return {
      name: cls.name,
      global: dyn.global === true || Reflect.getMetadata(GLOBAL_MODULE_METADATA, cls) === true,
    };
  });
}

describe('AppModule: a module says what it uses', () => {
  it('only infrastructure is global (config, common, telemetry, database, process, media)', () => {
    expect(
      modules()
        .filter((m) => m.global)
        .map((m) => m.name)
        .sort(),
    ).toEqual([
      'CommonModule',
      'ConfigModule',
      'DatabaseModule',
      'MediaModule',
      'ProcessModule',
      'TelemetryModule',
    ]);
  });

  it.each(['AuditModule', 'AuthModule', 'EventsModule', 'SettingsModule'])(
    '%s is imported where used, not global',
    (name) => {
      expect(modules().find((m) => m.name === name)).toEqual({ name, global: false });
    },
  );
});
