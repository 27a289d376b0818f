import { Column, Entity, PrimaryColumn } from 'typeorm';
import { jsonText } from '../../database/columns';

/** A subscription: where matching events are POSTed, signed per Standard Webhooks. */
@Entity('webhooks')
export class WebhookEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) url!: string;
  /** Exact types or `prefix*`; `*` = all. */
  @Column({ type: 'text', name: 'event_types', default: '["*"]', transformer: jsonText })
  eventTypes!: string[];
  @Column({ type: 'text', name: 'min_severity', default: 'info' }) minSeverity!: string;
  /** `whsec_…`, sealed with the secret box. */
  @Column({ type: 'text' }) secret!: string;
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  /** Null = every camera; else only events of these cameras (camera-less events excluded). */
  @Column({ type: 'text', name: 'camera_scope', nullable: true, transformer: jsonText })
  cameraScope!: string[] | null;
  /** The sidecar module that owns it (removed with the module). */
  @Column({ type: 'text', name: 'module_id', nullable: true }) moduleId!: string | null;
  /** Every event up to this seq has been turned into a delivery (or did not match). */
  @Column({ type: 'integer', name: 'cursor_seq', default: 0 }) cursorSeq!: number;
  @Column({ type: 'integer', name: 'consecutive_failures', default: 0 }) consecutiveFailures!: number;
  @Column({ type: 'boolean', default: false }) failing!: boolean;
  @Column({ type: 'text', name: 'last_success_at', nullable: true }) lastSuccessAt!: string | null;
  @Column({ type: 'text', name: 'last_failure_at', nullable: true }) lastFailureAt!: string | null;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
