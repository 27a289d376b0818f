import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { ModuleRecordEntity } from './entities/module-record.entity';
import { SettingEntity } from './entities/setting.entity';

@Injectable()
export class SettingsRepository {
  constructor(private readonly db: DatabaseService) {}

  get(key: string): Promise<SettingEntity | null> {
    return this.db.run((m) => m.getRepository(SettingEntity).findOneBy({ key }));
  }

  getAll(): Promise<SettingEntity[]> {
    return this.db.run((m) => m.getRepository(SettingEntity).find({ order: { key: 'ASC' } }));
  }

  async upsert(row: SettingEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(SettingEntity).upsert(row, ['key']));
  }

  async delete(key: string): Promise<boolean> {
    return this.db.run(
      async (m) => ((await m.getRepository(SettingEntity).delete({ key })).affected ?? 0) > 0,
    );
  }

  async upsertModule(row: ModuleRecordEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(ModuleRecordEntity).upsert(row, ['id']));
  }

  async upsertModules(rows: ModuleRecordEntity[]): Promise<void> {
    if (rows.length > 0) await this.db.run((m) => m.getRepository(ModuleRecordEntity).upsert(rows, ['id']));
  }

  async setModuleState(
    id: string,
    patch: Pick<ModuleRecordEntity, 'state' | 'reason' | 'since' | 'updatedAt'>,
  ): Promise<void> {
    await this.db.run((m) => m.getRepository(ModuleRecordEntity).update({ id }, patch));
  }

  /** The given modules `stopped`, in one statement (the kernel's shutdown). */
  async stopModules(ids: string[], at: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.run((m) =>
      m
        .getRepository(ModuleRecordEntity)
        .update({ id: In(ids) }, { state: 'stopped', reason: null, since: at, updatedAt: at }),
    );
  }

  getModule(id: string): Promise<ModuleRecordEntity | null> {
    return this.db.run((m) => m.getRepository(ModuleRecordEntity).findOneBy({ id }));
  }

  listModules(): Promise<ModuleRecordEntity[]> {
    return this.db.run((m) => m.getRepository(ModuleRecordEntity).find({ order: { id: 'ASC' } }));
  }
}
