import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from '../capabilities';

@Entity('users')
export class UserEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', unique: true }) username!: string;
  /** argon2id PHC string; never returned. */
  @Column({ type: 'text', name: 'password_hash' }) passwordHash!: string;
  @Column({ type: 'text', default: 'viewer' }) role!: Role;
  @Column({ type: 'text', name: 'display_name', nullable: true }) displayName!: string | null;
  @Column({ type: 'boolean', default: true }) active!: boolean;
  @Column({ type: 'integer', name: 'failed_login_count', default: 0 }) failedLoginCount!: number;
  @Column({ type: 'text', name: 'locked_until', nullable: true }) lockedUntil!: string | null;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
