import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A span of an event camera's footage to keep: `[trigger − pre_roll, trigger + post_roll]`,
 * extended (never shortened) by later triggers that reach it. */
@Entity('keep_windows')
@Index('idx_keep_windows_camera_end', ['cameraId', 'endTime'])
export class KeepWindowEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', name: 'start_time' }) startTime!: string;
  @Column({ type: 'text', name: 'end_time' }) endTime!: string;
  /** What opened it: a zone event type, a worker's event type, or the trigger API's reason. */
  @Column({ type: 'text' }) reason!: string;
  @Column({ type: 'integer', name: 'trigger_count', default: 1 }) triggerCount!: number;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
