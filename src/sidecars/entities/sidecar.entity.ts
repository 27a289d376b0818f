import { Column, Entity, PrimaryColumn } from 'typeorm';
import { jsonText } from '../../database/columns';

export interface NavEntry {
  label: string;
  path: string;
}

export type ModuleHealth = 'unknown' | 'healthy' | 'unreachable';

/** A registered sidecar app, mounted at `/m/{id}/*`. */
@Entity('sidecar_modules')
export class SidecarEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text', default: '0.0.0' }) version!: string;
  @Column({ type: 'text', nullable: true }) description!: string | null;
  /** Origin only (scheme, host, port), no trailing slash. */
  @Column({ type: 'text', name: 'base_url' }) baseUrl!: string;
  @Column({ type: 'text' }) role!: string;
  @Column({ type: 'text', name: 'api_key_id' }) apiKeyId!: string;
  @Column({ type: 'text', name: 'webhook_id' }) webhookId!: string;
  @Column({ type: 'text', default: '[]', transformer: jsonText }) nav!: NavEntry[];
  @Column({ type: 'text', default: 'unknown' }) health!: ModuleHealth;
  @Column({ type: 'text', name: 'health_checked_at', nullable: true }) healthCheckedAt!: string | null;
  @Column({ type: 'text', name: 'health_error', nullable: true }) healthError!: string | null;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
