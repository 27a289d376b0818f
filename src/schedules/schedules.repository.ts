import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../database/database.service';
import { RecordingScheduleEntity } from './entities/recording-schedule.entity';

@Injectable()
export class SchedulesRepository {
  constructor(private readonly db: DatabaseService) {}

  /** Every window of every camera, in one read (the cache at boot). */
  all(): Promise<RecordingScheduleEntity[]> {
    return this.db.run((m) =>
      m
        .getRepository(RecordingScheduleEntity)
        .find({ order: { cameraId: 'ASC', createdAt: 'ASC', id: 'ASC' } }),
    );
  }

  forCamera(cameraId: string): Promise<RecordingScheduleEntity[]> {
    return this.db.run((m) =>
      m
        .getRepository(RecordingScheduleEntity)
        .find({ where: { cameraId }, order: { createdAt: 'ASC', id: 'ASC' } }),
    );
  }

  get(id: string): Promise<RecordingScheduleEntity | null> {
    return this.db.run((m) => m.getRepository(RecordingScheduleEntity).findOneBy({ id }));
  }

  async insert(row: RecordingScheduleEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(RecordingScheduleEntity).insert({ ...row }));
  }

  async update(id: string, patch: Partial<RecordingScheduleEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(RecordingScheduleEntity).update({ id }, patch));
  }

  async delete(id: string): Promise<void> {
    await this.db.run((m) => m.getRepository(RecordingScheduleEntity).delete({ id }));
  }

  async deleteCamera(cameraId: string): Promise<void> {
    await this.db.run((m) => m.getRepository(RecordingScheduleEntity).delete({ cameraId }));
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.transaction(() => fn());
  }
}
