import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RowRetention } from '../common/row-retention';
import { LessThan } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { ApiKeyEntity } from './entities/api-key.entity';
import { SessionEntity } from './entities/session.entity';
import { UserEntity } from './entities/user.entity';

@Injectable()
export class AuthRepository implements OnModuleInit {
  constructor(
    private readonly db: DatabaseService,
    private readonly rowRetention: RowRetention,
  ) {}

  onModuleInit(): void {
    this.rowRetention.register({
      name: 'sessions',
      ttl: 'expired',
      prune: (now) => this.db.deleteInBatches(SessionEntity, 'id', 'x.expires_at < :now', { now }),
    });
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.transaction(() => fn());
  }

  countUsers(): Promise<number> {
    return this.db.run((m) => m.getRepository(UserEntity).count());
  }

  getUsers(): Promise<UserEntity[]> {
    return this.db.run((m) => m.getRepository(UserEntity).find({ order: { username: 'ASC' } }));
  }

  getUser(id: string): Promise<UserEntity | null> {
    return this.db.run((m) => m.getRepository(UserEntity).findOneBy({ id }));
  }

  getUserByName(username: string): Promise<UserEntity | null> {
    return this.db.run((m) => m.getRepository(UserEntity).findOneBy({ username }));
  }

  async insertUser(row: UserEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(UserEntity).insert(row));
  }

  async updateUser(id: string, patch: Partial<UserEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(UserEntity).update({ id }, patch));
  }

  async deleteUser(id: string): Promise<void> {
    await this.db.run((m) => m.getRepository(UserEntity).delete({ id }));
  }

  countActiveAdmins(): Promise<number> {
    return this.db.run((m) => m.getRepository(UserEntity).countBy({ role: 'admin', active: true }));
  }

  /**
   * Claim one login attempt atomically, before the password is checked: failed_login_count + 1
   * (restarting at 1 once an expired lock is found), and the claim that reaches `max` (> 0) sets
   * `locked_until` in the same statement. Refused (null) while the account is locked; else the
   * attempt's number. One conditional UPDATE, so parallel attempts serialise on the row (SQLite and
   * PostgreSQL alike) and never more than `max` of them get through.
   */
  async claimLoginAttempt(id: string, max: number, lockUntil: string, now: string): Promise<number | null> {
    const next = 'CASE WHEN locked_until IS NULL THEN failed_login_count + 1 ELSE 1 END';
    const limit = Math.max(0, Math.trunc(max));
    return this.db.transaction(async (m) => {
      const res = await m
        .createQueryBuilder()
        .update(UserEntity)
        .set({
          failedLoginCount: () => next,
          lockedUntil: () =>
            limit > 0 ? `CASE WHEN ${next} >= ${limit} THEN :lockUntil ELSE NULL END` : 'NULL',
          updatedAt: now,
        })
        .where('id = :id AND (locked_until IS NULL OR locked_until <= :now)', { id, now, lockUntil })
        .execute();
      if (!res.affected) return null;
      const u = await m.getRepository(UserEntity).findOneBy({ id });
      return u ? u.failedLoginCount : null;
    });
  }

  async insertSession(row: SessionEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(SessionEntity).insert(row));
  }

  getSession(id: string): Promise<SessionEntity | null> {
    return this.db.run((m) => m.getRepository(SessionEntity).findOneBy({ id }));
  }

  async touchSession(id: string, lastUsedAt: string): Promise<void> {
    await this.db.run((m) => m.getRepository(SessionEntity).update({ id }, { lastUsedAt }));
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.run((m) => m.getRepository(SessionEntity).delete({ id }));
  }

  async deleteUserSessions(userId: string): Promise<void> {
    await this.db.run((m) => m.getRepository(SessionEntity).delete({ userId }));
  }

  async deleteExpiredSessions(now: string): Promise<void> {
    await this.db.run((m) => m.getRepository(SessionEntity).delete({ expiresAt: LessThan(now) }));
  }

  getApiKeys(): Promise<ApiKeyEntity[]> {
    return this.db.run((m) => m.getRepository(ApiKeyEntity).find({ order: { createdAt: 'DESC' } }));
  }

  getApiKey(id: string): Promise<ApiKeyEntity | null> {
    return this.db.run((m) => m.getRepository(ApiKeyEntity).findOneBy({ id }));
  }

  getApiKeyByHash(keyHash: string): Promise<ApiKeyEntity | null> {
    return this.db.run((m) => m.getRepository(ApiKeyEntity).findOneBy({ keyHash }));
  }

  async insertApiKey(row: ApiKeyEntity): Promise<void> {
    await this.db.run((m) => m.getRepository(ApiKeyEntity).insert(row));
  }

  async updateApiKey(id: string, patch: Partial<ApiKeyEntity>): Promise<void> {
    await this.db.run((m) => m.getRepository(ApiKeyEntity).update({ id }, patch));
  }

  async deleteApiKey(id: string): Promise<boolean> {
    return this.db.run(async (m) => ((await m.getRepository(ApiKeyEntity).delete({ id })).affected ?? 0) > 0);
  }
}
