import { Column, Entity, PrimaryColumn } from 'typeorm';
import { jsonText } from '../../database/columns';
import type { Capability, Role } from '../capabilities';

/** A machine credential; only the SHA-256 of the `vok_` key is stored. */
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text', name: 'key_hash', unique: true }) keyHash!: string;
  @Column({ type: 'text', name: 'key_prefix' }) keyPrefix!: string;
  @Column({ type: 'text', default: 'integration' }) role!: Role;
  /** Explicit capability list, or null = the role's capabilities. */
  @Column({ type: 'text', nullable: true, transformer: jsonText }) capabilities!: Capability[] | null;
  @Column({ type: 'text', name: 'scope_kind', default: 'all' }) scopeKind!: 'all' | 'cameras';
  @Column({ type: 'text', name: 'scope_cameras', nullable: true, transformer: jsonText }) scopeCameras!:
    string[] | null;
  @Column({ type: 'boolean', default: true }) active!: boolean;
  @Column({ type: 'text', name: 'expires_at', nullable: true }) expiresAt!: string | null;
  @Column({ type: 'text', name: 'revoked_at', nullable: true }) revokedAt!: string | null;
  @Column({ type: 'text', name: 'last_used_at', nullable: true }) lastUsedAt!: string | null;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
}
