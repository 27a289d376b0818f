import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../../database/columns';
import type { RecordMode } from '../record-mode';
import { SiteEntity } from './site.entity';

/** A camera. `password`, `main_stream_url`, `sub_stream_url` and `url_template` are sealed
 * (`enc:v2:`, bound to column and camera id) at rest: explicit URLs may embed credentials. Never returned as is. */
@Entity('cameras')
@Index('idx_cameras_site', ['siteId'])
export class CameraEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'site_id', nullable: true }) siteId!: string | null;
  @ManyToOne(() => SiteEntity, { onDelete: 'SET NULL', nullable: true, createForeignKeyConstraints: true })
  @JoinColumn({ name: 'site_id', foreignKeyConstraintName: 'fk_cameras_site' })
  site?: SiteEntity | null;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text', default: 'generic' }) vendor!: string;
  @Column({ type: 'text', nullable: true }) model!: string | null;
  @Column({ type: 'text', nullable: true }) address!: string | null;
  @Column({ type: 'integer', name: 'rtsp_port', nullable: true }) rtspPort!: number | null;
  @Column({ type: 'integer', default: 1 }) channel!: number;
  @Column({ type: 'text', nullable: true }) username!: string | null;
  @Column({ type: 'text', nullable: true }) password!: string | null;
  @Column({ type: 'text', name: 'main_stream_url', nullable: true }) mainStreamUrl!: string | null;
  @Column({ type: 'text', name: 'sub_stream_url', nullable: true }) subStreamUrl!: string | null;
  @Column({ type: 'text', name: 'url_template', nullable: true }) urlTemplate!: string | null;
  @Column({ type: 'text', name: 'record_stream', default: 'main' }) recordStream!: 'main' | 'sub';
  @Column({ type: 'boolean', name: 'record_enabled', default: true }) recordEnabled!: boolean;
  @Column({ type: 'integer', name: 'segment_seconds', default: 60 }) segmentSeconds!: number;
  @Column({ type: 'text', name: 'record_mode', default: 'continuous' }) recordMode!: RecordMode;
  @Column({ type: 'integer', name: 'pre_roll_seconds', default: 10 }) preRollSeconds!: number;
  @Column({ type: 'integer', name: 'post_roll_seconds', default: 30 }) postRollSeconds!: number;
  @Column({ type: 'integer', name: 'retention_hours', default: 24 }) retentionHours!: number;
  @Column({ type: 'bigint', name: 'storage_quota_bytes', nullable: true, transformer: bigintNumber })
  storageQuotaBytes!: number | null;
  @Column({ type: 'boolean', name: 'record_audio', default: false }) recordAudio!: boolean;
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  @Column({ type: 'integer', default: 100 }) priority!: number;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
