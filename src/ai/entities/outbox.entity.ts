import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One row per ingested batch, written in the batch's transaction: `(camera_id, frame_id)` makes a
 * replayed frame a no-op, and `fanned_out_at` tells the replay loop which batches consumers have
 * not all seen.
 */
@Entity('outbox')
@Index('uq_outbox_camera_frame', ['cameraId', 'frameId'], { unique: true })
@Index('idx_outbox_created', ['createdAt'])
@Index('idx_outbox_unfanned', ['fannedOutAt', 'seq'])
export class OutboxEntity {
  @PrimaryGeneratedColumn('increment', { type: 'integer' }) seq!: number;
  @Column({ type: 'text' }) topic!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', name: 'site_id', nullable: true }) siteId!: string | null;
  /** Namespaced frame key (`w:<frame_id>`); null = no idempotency. */
  @Column({ type: 'text', name: 'frame_id', nullable: true }) frameId!: string | null;
  @Column({ type: 'text', name: 'task_type' }) taskType!: string;
  @Column({ type: 'integer', name: 'detection_count', default: 0 }) detectionCount!: number;
  @Column({ type: 'text' }) provenance!: string;
  @Column({ type: 'text', name: 'produced_by' }) producedBy!: string;
  @Column({ type: 'text', name: 'batch_timestamp' }) batchTimestamp!: string;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'fanned_out_at', nullable: true }) fannedOutAt!: string | null;
}
