import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { HELDAR_MODULE_KEY, type HeldarModuleMeta } from '../common/heldar-module.decorator';
import { SettingsService } from './settings.service';
import { KERNEL_VERSION } from '../version';

const SETTINGS_MODULE_ID = 'settings';

/**
 * Writes each `@HeldarModule` Nest module's lifecycle: `running` at boot unless the module
 * reported a failure (`failed` with the reason), `stopped` at shutdown. A module whose start
 * fails calls `report(id, 'failed', reason)` and the kernel keeps serving the rest; it calls
 * `report(id, 'running')` when it recovers.
 */
@Injectable()
export class ModuleLifecycleService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Modules');
  private metas: HeldarModuleMeta[] = [];
  /** Failures reported before the boot's write, carried by it. */
  private readonly failures = new Map<string, string>();
  /** The boot's write, once started: later reports follow it. */
  private booted: Promise<void> | null = null;

  constructor(
    private readonly container: ModulesContainer,
    private readonly settings: SettingsService,
  ) {}

  onApplicationBootstrap(): Promise<void> {
    this.booted = this.writeBoot();
    return this.booted;
  }

  private async writeBoot(): Promise<void> {
    const seen = new Map<string, HeldarModuleMeta>();
    for (const mod of this.container.values()) {
      const meta = Reflect.getMetadata(HELDAR_MODULE_KEY, mod.metatype) as HeldarModuleMeta | undefined;
      if (meta) seen.set(meta.id, meta);
    }
    this.metas = [...seen.values()];
    const registry = this.settings.startProblem();
    if (registry) this.failures.set(SETTINGS_MODULE_ID, registry);
    // Every module's record in one statement (two per module held up /readyz at boot).
    await this.settings.upsertModules(
      this.metas.map((m) => ({
        ...m,
        version: KERNEL_VERSION,
        kind: 'builtin' as const,
        state: this.failures.has(m.id) ? ('failed' as const) : ('running' as const),
        reason: this.failures.get(m.id) ?? null,
      })),
    );
    const failed = this.metas.filter((m) => this.failures.has(m.id)).map((m) => m.id);
    this.logger.log(
      `running: ${this.metas
        .filter((m) => !this.failures.has(m.id))
        .map((m) => m.id)
        .join(', ')}${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}`,
    );
  }

  /** A built-in module's own word on its state: before the boot's write it is carried by it. */
  async report(id: string, state: 'running' | 'failed', reason: string | null = null): Promise<void> {
    if (state === 'failed') this.failures.set(id, reason ?? 'failed');
    else this.failures.delete(id);
    if (!this.booted) return;
    await this.booted.catch(() => undefined);
    await this.settings.setModuleState(id, state, reason);
  }

  async onApplicationShutdown(): Promise<void> {
    // DB may already be closing: the records are then left as they were.
    await this.settings.stopModules(this.metas.map((m) => m.id)).catch(() => undefined);
  }
}
