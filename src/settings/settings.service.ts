import { HttpStatus, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock';
import { DomainError, NotFoundError } from '../common/errors';
import { SecretBox, sealedIn } from '../common/secret-box';
import { EventsService } from '../events/events.service';
import type { ModuleKind, ModuleRecordEntity, ModuleState } from './entities/module-record.entity';
import { announcesChange } from './module-state';
import { SettingsRepository } from './settings.repository';

/** Associated data of a sealed setting: bound to its key (`settings.value:<key>`). */
const settingAad = (key: string): string => sealedIn('settings', 'value', key);

/** What a module is, for its record (the seed's `ModuleMetadata`). */
export interface ModuleMeta {
  id: string;
  name: string;
  version: string;
  kind: ModuleKind;
  description?: string | null;
}

/** `get` of a key that is not set (the seed's `ConfigNotFound`). */
export class ConfigNotFound extends NotFoundError {
  constructor(key: string) {
    super(`setting \`${key}\` is not set`, 'CONFIG_NOT_FOUND');
  }
}

/**
 * A stored value that does not open: sealed with another kernel key, or copied from another
 * key's row. A server fault, said plainly; the message names the key, never the value.
 */
export class ConfigUnreadable extends DomainError {
  constructor(key: string) {
    super(
      HttpStatus.INTERNAL_SERVER_ERROR,
      'CONFIG_UNREADABLE',
      `setting \`${key}\` cannot be opened: it was sealed with another HELDAR_SECRET_KEY or for another key`,
    );
  }
}

/**
 * The settings registry (the oxide_k seed): JSON values of any shape by key, every one sealed at
 * rest with the kernel's key and bound to its key; and the module records (built-in modules and
 * sidecars) with their lifecycle state, why a module failed and since when. A change of a
 * module's state is announced as a `module_state_changed` event (see `announcesChange`).
 */
@Injectable()
export class SettingsService implements OnModuleInit {
  private readonly logger = new Logger('Settings');
  private unreadable: string[] = [];

  constructor(
    private readonly repo: SettingsRepository,
    private readonly box: SecretBox,
    private readonly events: EventsService,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.sealAtRest();
  }

  /**
   * At boot: rows stored plain or sealed before the binding (`enc:v1:`) are sealed as `enc:v2:`
   * bound to `settings.value:<key>` (a no-op once done); rows that do not open with this key are
   * logged loudly and make `startProblem()` say so (the settings module is then `failed`).
   */
  async sealAtRest(): Promise<number> {
    let sealed = 0;
    const unreadable: string[] = [];
    for (const row of await this.repo.getAll()) {
      const aad = settingAad(row.key);
      try {
        const json = this.box.open(row.value, aad);
        if (!SecretBox.needsReseal(row.value) && row.secret) continue;
        await this.repo.upsert({ ...row, value: this.box.seal(json, aad), secret: true });
        sealed++;
      } catch {
        unreadable.push(row.key);
      }
    }
    this.unreadable = unreadable;
    if (sealed > 0) this.logger.log(`sealed ${sealed} setting(s) at rest, bound to their key`);
    if (unreadable.length > 0)
      this.logger.error(
        { keys: unreadable },
        `${unreadable.length} setting(s) cannot be opened with this kernel's key (HELDAR_SECRET_KEY changed?); reading them fails until the key is restored`,
      );
    return sealed;
  }

  /** Why the registry is not whole, or null: values that the boot could not open. */
  startProblem(): string | null {
    return this.unreadable.length === 0
      ? null
      : `${this.unreadable.length} setting(s) cannot be opened with this kernel's key (HELDAR_SECRET_KEY changed?): ${this.unreadable.join(', ')}`;
  }

  /** The value of `key`; throws `CONFIG_NOT_FOUND` (404) when it is not set. */
  async get<T>(key: string): Promise<T> {
    const row = await this.repo.get(key);
    if (!row) throw new ConfigNotFound(key);
    let json: string;
    try {
      json = this.box.open(row.value, settingAad(key));
    } catch {
      throw new ConfigUnreadable(key);
    }
    return JSON.parse(json) as T;
  }

  /** The value of `key`, or undefined when it is not set. */
  async tryGet<T>(key: string): Promise<T | undefined> {
    try {
      return await this.get<T>(key);
    } catch (err) {
      if (err instanceof ConfigNotFound) return undefined;
      throw err;
    }
  }

  /** Store any JSON-serialisable value, sealed and bound to `key`. */
  async set(key: string, value: unknown): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`setting ${key}: value is not JSON-serialisable`);
    await this.repo.upsert({
      key,
      value: this.box.seal(json, settingAad(key)),
      secret: true,
      updatedAt: this.clock.nowIso(),
    });
  }

  /** Whether a value was removed. */
  delete(key: string): Promise<boolean> {
    return this.repo.delete(key);
  }

  /** Insert or update a module's record in `state` (`reason`: why, when `failed`). */
  async upsertModule(meta: ModuleMeta, state: ModuleState, reason: string | null = null): Promise<void> {
    const prev = await this.repo.getModule(meta.id);
    const row = this.record(meta, state, reason, prev, this.clock.nowIso());
    if (prev && sameRecord(prev, row)) return;
    await this.repo.upsertModule(row);
    await this.announce(prev?.state ?? null, row, false);
  }

  /** Every built-in module's record in one statement (the kernel's boot). */
  async upsertModules(
    metas: Array<ModuleMeta & { state: ModuleState; reason?: string | null }>,
  ): Promise<void> {
    const at = this.clock.nowIso();
    const prev = new Map((await this.repo.listModules()).map((m) => [m.id, m]));
    const rows = metas.map((m) => this.record(m, m.state, m.reason ?? null, prev.get(m.id) ?? null, at));
    await this.repo.upsertModules(rows);
    for (const row of rows) await this.announce(prev.get(row.id)?.state ?? null, row, true);
  }

  /** Change only a module's state (and reason); throws `MODULE_NOT_FOUND` for an unknown module. */
  async setModuleState(id: string, state: ModuleState, reason: string | null = null): Promise<void> {
    const prev = await this.repo.getModule(id);
    if (!prev) throw new NotFoundError(`module \`${id}\` is not registered`, 'MODULE_NOT_FOUND');
    const row = this.record(prev, state, reason, prev, this.clock.nowIso());
    if (sameRecord(prev, row)) return;
    await this.repo.setModuleState(id, {
      state: row.state,
      reason: row.reason,
      since: row.since,
      updatedAt: row.updatedAt,
    });
    await this.announce(prev.state, row, false);
  }

  /** The kernel's shutdown: these modules `stopped`, in one statement, announced to no one. */
  stopModules(ids: string[]): Promise<void> {
    return this.repo.stopModules(ids, this.clock.nowIso());
  }

  lookupModule(id: string): Promise<ModuleRecordEntity | null> {
    return this.repo.getModule(id);
  }

  /** Every module record, ordered by id. */
  listModules(): Promise<ModuleRecordEntity[]> {
    return this.repo.listModules();
  }

  private record(
    meta: ModuleMeta,
    state: ModuleState,
    reason: string | null,
    prev: ModuleRecordEntity | null,
    at: string,
  ): ModuleRecordEntity {
    return {
      id: meta.id,
      name: meta.name,
      version: meta.version,
      kind: meta.kind,
      description: meta.description ?? null,
      state,
      reason: state === 'failed' ? (reason ?? 'failed') : null,
      since: prev && prev.state === state && prev.since ? prev.since : at,
      updatedAt: at,
    };
  }

  private async announce(prev: ModuleState | null, row: ModuleRecordEntity, bulk: boolean): Promise<void> {
    if (!announcesChange(prev, row.state, bulk)) return;
    if (row.state === 'failed') this.logger.warn({ module: row.id, reason: row.reason }, 'module failed');
    await this.events.emit({
      type: 'module_state_changed',
      severity: row.state === 'failed' ? 'warning' : 'info',
      payload: {
        module_id: row.id,
        kind: row.kind,
        name: row.name,
        state: row.state,
        previous_state: prev,
        reason: row.reason,
        since: row.since,
      },
    });
  }
}

function sameRecord(a: ModuleRecordEntity, b: ModuleRecordEntity): boolean {
  return (
    a.name === b.name &&
    a.version === b.version &&
    a.kind === b.kind &&
    a.description === b.description &&
    a.state === b.state &&
    a.reason === b.reason &&
    a.since === b.since
  );
}
