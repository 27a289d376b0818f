import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../database/database.service';
import { KeepCursorEntity } from './entities/keep-cursor.entity';
import { KeepWindowEntity } from './entities/keep-window.entity';

@Injectable()
export class KeepRepository {
  constructor(private readonly db: DatabaseService) {}

  /** The camera's window ending last, if it ends at or after `endAtOrAfterIso` (one index seek). */
  latestEndingAfter(cameraId: string, endAtOrAfterIso: string): Promise<KeepWindowEntity | null> {
    return this.db.run((m) =>
      m
        .getRepository(KeepWindowEntity)
        .createQueryBuilder('w')
        .where('w.camera_id = :cameraId AND w.end_time >= :t', { cameraId, t: endAtOrAfterIso })
        .orderBy('w.end_time', 'DESC')
        .limit(1)
        .getOne(),
    );
  }

  /** Windows of the camera overlapping `[fromIso, toIso)`, by start (bounded by the end index). */
  overlapping(cameraId: string, fromIso: string, toIso: string, limit = 1000): Promise<KeepWindowEntity[]> {
    return this.db.run((m) =>
      m
        .getRepository(KeepWindowEntity)
        .createQueryBuilder('w')
        .where('w.camera_id = :cameraId AND w.end_time > :fromIso AND w.start_time < :toIso', {
          cameraId,
          fromIso,
          toIso,
        })
        .orderBy('w.start_time', 'ASC')
        .limit(limit)
        .getMany(),
    );
  }

  async insert(row: KeepWindowEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(KeepWindowEntity).insert({ ...row }));
  }

  async update(id: string, patch: Partial<KeepWindowEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(KeepWindowEntity).update({ id }, patch));
  }

  async cursor(cameraId: string): Promise<string | null> {
    return (
      (await this.db.run((m) => m.getRepository(KeepCursorEntity).findOneBy({ cameraId })))?.decidedUntil ??
      null
    );
  }

  async setCursor(cameraId: string, decidedUntil: string): Promise<void> {
    await this.db.run((m) =>
      m.getRepository(KeepCursorEntity).upsert({ cameraId, decidedUntil }, ['cameraId']),
    );
  }

  async deleteCamera(cameraId: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.getRepository(KeepWindowEntity).delete({ cameraId });
      await m.getRepository(KeepCursorEntity).delete({ cameraId });
    });
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.transaction(() => fn());
  }
}
