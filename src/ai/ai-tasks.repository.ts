import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../database/database.service';
import { AiTaskEntity, type StreamProfile } from './entities/ai-task.entity';
import { AiWorkerEntity } from './entities/ai-worker.entity';

/** AI tasks and the workers that discovered them. Inside `db.transaction` every call joins it. */
@Injectable()
export class AiTasksRepository {
  constructor(private readonly db: DatabaseService) {}

  get(id: string): Promise<AiTaskEntity | null> {
    return this.db.run((m) => m.getRepository(AiTaskEntity).findOneBy({ id }));
  }

  /** The task of a camera for a (task_type, stream_profile), the pair that makes a task unique. */
  getByKey(cameraId: string, taskType: string, streamProfile: StreamProfile): Promise<AiTaskEntity | null> {
    return this.db.run((m) => m.getRepository(AiTaskEntity).findOneBy({ cameraId, taskType, streamProfile }));
  }

  listForCamera(cameraId: string): Promise<AiTaskEntity[]> {
    return this.db.run((m) =>
      m.getRepository(AiTaskEntity).find({ where: { cameraId }, order: { createdAt: 'ASC' } }),
    );
  }

  listEnabled(): Promise<AiTaskEntity[]> {
    return this.db.run((m) =>
      m.getRepository(AiTaskEntity).find({ where: { enabled: true }, order: { id: 'ASC' } }),
    );
  }

  async create(row: AiTaskEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(AiTaskEntity).insert({ ...row })); // a copy: RETURNING writes back
  }

  async update(id: string, patch: Partial<AiTaskEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(AiTaskEntity).update({ id }, patch));
  }

  async delete(id: string): Promise<void> {
    await this.db.run((m) => m.getRepository(AiTaskEntity).delete({ id }));
  }

  async deleteForCamera(cameraId: string): Promise<void> {
    await this.db.run((m) => m.getRepository(AiTaskEntity).delete({ cameraId }));
  }

  /** Workers unseen since `staleIso` are forgotten. */
  async forgetWorkersBefore(staleIso: string): Promise<void> {
    await this.db.run((m) =>
      m
        .getRepository(AiWorkerEntity)
        .createQueryBuilder()
        .delete()
        .where('last_seen < :stale', { stale: staleIso })
        .execute(),
    );
  }

  getWorker(workerId: string): Promise<AiWorkerEntity | null> {
    return this.db.run((m) => m.getRepository(AiWorkerEntity).findOneBy({ workerId }));
  }

  async saveWorker(row: AiWorkerEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(AiWorkerEntity).save({ ...row }));
  }

  /** The ids of the live workers of one credential, sorted. */
  async workerIdsOf(credential: string): Promise<string[]> {
    const rows = await this.db.run((m) => m.getRepository(AiWorkerEntity).find({ where: { credential } }));
    return rows.map((w) => w.workerId).sort();
  }
}
