import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../../database/columns';

/**
 * Per-camera totals of the segments rows, kept in the same transaction as every change to them
 * (insert, repair, delete, evidence and read locks), so retention, metrics and the system
 * summary read one row per camera instead of aggregating every segment.
 */
@Entity('segment_usage')
export class SegmentUsageEntity {
  @PrimaryColumn({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'integer', name: 'segment_count', default: 0 }) segmentCount!: number;
  @Column({ type: 'bigint', name: 'total_bytes', default: 0, transformer: bigintNumber }) totalBytes!: number;
  /** Segments evidence-locked or read-locked by an export (retention may not delete them). */
  @Column({ type: 'integer', name: 'protected_count', default: 0 }) protectedCount!: number;
  @Column({ type: 'bigint', name: 'protected_bytes', default: 0, transformer: bigintNumber })
  protectedBytes!: number;
}
