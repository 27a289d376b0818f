import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A camera's snapshot schedule: one JPEG every `intervalSeconds` while enabled. */
@Entity('snapshot_schedules')
@Index('idx_snapshot_schedules_camera', ['cameraId'])
export class SnapshotScheduleEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'integer', name: 'interval_seconds', default: 300 }) intervalSeconds!: number;
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
