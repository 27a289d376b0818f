import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.service';
import { CameraEntity } from './entities/camera.entity';
import { SiteEntity } from './entities/site.entity';

@Injectable()
export class CamerasRepository {
  constructor(private readonly db: Database) {}

  getAll(ids?: readonly string[]): Promise<CameraEntity[]> {
    return this.db.run((m) => {
      const qb = m.getRepository(CameraEntity).createQueryBuilder('c').orderBy('c.id', 'ASC');
      if (ids) {
        if (ids.length === 0) return Promise.resolve([]);
        qb.where('c.id IN (:...ids)', { ids: [...ids] });
      }
      return qb.getMany();
    });
  }

  get(id: string): Promise<CameraEntity | null> {
    return this.db.run((m) => m.getRepository(CameraEntity).findOneBy({ id }));
  }

  /** Whether the camera exists: one primary-key probe, no row loaded (camera-keyed reads ask it
   * on every request). */
  exists(id: string): Promise<boolean> {
    return this.db.run(async (m) => {
      if (this.db.isSqlite)
        return this.db.prepared('SELECT 1 FROM cameras WHERE id = ?').get(id) !== undefined;
      return (await m.query<unknown[]>('SELECT 1 FROM cameras WHERE id = $1', [id])).length > 0;
    });
  }

  async insert(row: CameraEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(CameraEntity).insert(row));
  }

  async update(id: string, patch: Partial<CameraEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(CameraEntity).update({ id }, patch));
  }

  async delete(id: string): Promise<boolean> {
    return this.db.run(async (m) => ((await m.getRepository(CameraEntity).delete({ id })).affected ?? 0) > 0);
  }

  getAllSites(): Promise<SiteEntity[]> {
    return this.db.run((m) => m.getRepository(SiteEntity).find({ order: { id: 'ASC' } }));
  }

  getSite(id: string): Promise<SiteEntity | null> {
    return this.db.run((m) => m.getRepository(SiteEntity).findOneBy({ id }));
  }

  async insertSite(row: SiteEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(SiteEntity).insert(row));
  }

  async updateSite(id: string, patch: Partial<SiteEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(SiteEntity).update({ id }, patch));
  }

  async deleteSite(id: string): Promise<boolean> {
    return this.db.run(async (m) => ((await m.getRepository(SiteEntity).delete({ id })).affected ?? 0) > 0);
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.transaction(() => fn());
  }
}
