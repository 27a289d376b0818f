import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { HELDAR_MODULE_KEY, type HeldarModuleMeta } from './heldar-module.decorator';
import { SettingsService } from './settings.service';
import { KERNEL_VERSION } from '../version';

/** Writes each `@HeldarModule` Nest module's lifecycle: running at boot, stopped at shutdown. */
@Injectable()
export class ModuleLifecycleService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Modules');
  private metas: HeldarModuleMeta[] = [];

  constructor(
    private readonly container: ModulesContainer,
    private readonly settings: SettingsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const seen = new Map<string, HeldarModuleMeta>();
    for (const mod of this.container.values()) {
      const meta = Reflect.getMetadata(HELDAR_MODULE_KEY, mod.metatype) as HeldarModuleMeta | undefined;
      if (meta) seen.set(meta.id, meta);
    }
    this.metas = [...seen.values()];
    // Every module's record in one statement (two per module held up /readyz at boot).
    await this.settings.upsertModules(
      this.metas.map((m) => ({
        ...m,
        version: KERNEL_VERSION,
        kind: 'builtin' as const,
        state: 'running' as const,
      })),
    );
    this.logger.log(`running: ${this.metas.map((m) => m.id).join(', ')}`);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const m of this.metas) {
      await this.settings.setModuleState(m.id, 'stopped').catch(() => undefined); // DB may already be closing
    }
  }
}
