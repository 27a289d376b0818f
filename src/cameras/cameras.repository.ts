import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../database/database.service';
import { CameraEntity } from './entities/camera.entity';
import { SiteEntity } from './entities/site.entity';

@Injectable()
export class CamerasRepository {
  /** Ids of cameras a probe found (see `exists`), and the count of forgets so far. */
  private readonly known = new Set<string>();
  private generation = 0;

  constructor(private readonly db: DatabaseService) {}

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

  /**
   * Whether the camera exists (camera-keyed reads ask on every request). A camera a probe found
   * is remembered, so asking again costs no query; only `delete()` removes a camera, and it
   * forgets the id at once and again when its transaction commits (a probe that raced it is
   * never remembered: the generation moved). Nothing is remembered inside a transaction (its
   * insert may still roll back), and an unknown id is always probed.
   */
  async exists(id: string): Promise<boolean> {
    if (this.known.has(id)) return true;
    const generation = this.generation;
    const found = (await this.db.select('SELECT 1 FROM cameras WHERE id = ?', [id])).length > 0;
    if (found && generation === this.generation && !this.db.inTransaction) this.known.add(id);
    return found;
  }

  /** Forget that camera `id` exists (deleted: here, or through another node of the cluster). */
  forget(id: string): void {
    this.known.delete(id);
    this.generation++;
  }

  async insert(row: CameraEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(CameraEntity).insert(row));
  }

  async update(id: string, patch: Partial<CameraEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(CameraEntity).update({ id }, patch));
  }

  async delete(id: string): Promise<boolean> {
    this.forget(id);
    const gone = await this.db.run(
      async (m) => ((await m.getRepository(CameraEntity).delete({ id })).affected ?? 0) > 0,
    );
    this.db.afterCommit(() => this.forget(id));
    return gone;
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
