import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A login session; `id` is the SHA-256 of the `vos_` token (the token itself is never stored). */
@Entity('sessions')
@Index('idx_sessions_user', ['userId'])
export class SessionEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'user_id' }) userId!: string;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'expires_at' }) expiresAt!: string;
  @Column({ type: 'text', name: 'last_used_at' }) lastUsedAt!: string;
}
