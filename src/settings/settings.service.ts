import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock';
import { NotFoundError } from '../common/errors';
import { SecretBox, sealedIn } from '../common/secret-box';
import type { ModuleKind, ModuleRecordEntity, ModuleState } from './entities/module-record.entity';
import { SettingsRepository } from './settings.repository';

/** Associated data of a sealed setting: bound to its key (`settings.value:<key>`). */
const settingAad = (key: string): string => sealedIn('settings', 'value', key);

/**
 * The settings registry (the oxide_k seed): JSON values by key, sealed with the secret box when
 * marked secret, and the module records every built-in module writes as it starts and stops.
 */
@Injectable()
export class SettingsService implements OnModuleInit {
  private readonly logger = new Logger('Settings');

  constructor(
    private readonly repo: SettingsRepository,
    private readonly box: SecretBox,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.resealLegacy();
  }

  /** One-time upgrade: secret settings sealed before the binding (`enc:v1:`) are re-sealed as
   * `enc:v2:` bound to `settings.value:<key>` (a no-op once done). */
  async resealLegacy(): Promise<number> {
    let resealed = 0;
    for (const row of await this.repo.getAllSecret()) {
      if (!SecretBox.needsReseal(row.value)) continue;
      const aad = settingAad(row.key);
      try {
        await this.repo.upsert({ ...row, value: this.box.seal(this.box.open(row.value, aad), aad) });
        resealed++;
      } catch (err) {
        this.logger.error({ err, key: row.key }, 'a legacy secret setting cannot be opened');
      }
    }
    if (resealed > 0) this.logger.log(`re-sealed ${resealed} secret setting(s), bound to their key`);
    return resealed;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const row = await this.repo.get(key);
    if (!row) return undefined;
    return JSON.parse(row.secret ? this.box.open(row.value, settingAad(key)) : row.value) as T;
  }

  async set(key: string, value: unknown, opts: { secret?: boolean } = {}): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`setting ${key}: value is not JSON-serialisable`);
    const secret = opts.secret ?? false;
    await this.repo.upsert({
      key,
      value: secret ? this.box.seal(json, settingAad(key)) : json,
      secret,
      updatedAt: this.clock.nowIso(),
    });
  }

  delete(key: string): Promise<boolean> {
    return this.repo.delete(key);
  }

  async upsertModule(meta: {
    id: string;
    name: string;
    version: string;
    kind: ModuleKind;
    description?: string | null;
    state: ModuleState;
  }): Promise<void> {
    await this.repo.upsertModule({
      ...meta,
      description: meta.description ?? null,
      updatedAt: this.clock.nowIso(),
    });
  }

  /** Several modules' records in one statement. */
  async upsertModules(
    metas: Array<{
      id: string;
      name: string;
      version: string;
      kind: ModuleKind;
      description?: string | null;
      state: ModuleState;
    }>,
  ): Promise<void> {
    const updatedAt = this.clock.nowIso();
    await this.repo.upsertModules(
      metas.map((m) => ({ ...m, description: m.description ?? null, updatedAt })),
    );
  }

  async setModuleState(id: string, state: ModuleState): Promise<void> {
    if (!(await this.repo.setModuleState(id, state, this.clock.nowIso()))) {
      throw new NotFoundError(`module \`${id}\` is not registered`, 'MODULE_NOT_FOUND');
    }
  }

  getModule(id: string): Promise<ModuleRecordEntity | null> {
    return this.repo.getModule(id);
  }

  listModules(): Promise<ModuleRecordEntity[]> {
    return this.repo.listModules();
  }
}
