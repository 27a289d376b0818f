import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../database/database.service';
import { SidecarEntity } from './entities/sidecar.entity';

/** Registered sidecars (table `sidecar_modules`). Inside `db.transaction` every call joins it. */
@Injectable()
export class SidecarsRepository {
  constructor(private readonly db: DatabaseService) {}

  list(): Promise<SidecarEntity[]> {
    return this.db.run((m) => m.getRepository(SidecarEntity).find({ order: { createdAt: 'ASC' } }));
  }

  get(id: string): Promise<SidecarEntity | null> {
    return this.db.run((m) => m.getRepository(SidecarEntity).findOneBy({ id }));
  }

  getByApiKey(apiKeyId: string): Promise<SidecarEntity | null> {
    return this.db.run((m) => m.getRepository(SidecarEntity).findOneBy({ apiKeyId }));
  }

  async create(row: SidecarEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(SidecarEntity).insert({ ...row })); // a copy: RETURNING writes back
  }

  async delete(id: string): Promise<void> {
    await this.db.run((m) => m.getRepository(SidecarEntity).delete({ id }));
  }

  /** The probe's outcome; false when the sidecar was unregistered meanwhile. */
  async setHealth(
    id: string,
    patch: Pick<SidecarEntity, 'health' | 'healthCheckedAt' | 'healthError'>,
  ): Promise<boolean> {
    const res = await this.db.run((m) => m.getRepository(SidecarEntity).update({ id }, patch));
    return (res.affected ?? 0) > 0;
  }
}
