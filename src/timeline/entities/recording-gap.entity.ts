import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { GapCause } from '../../common/gap-cause';

/** A hole of more than 3 s between two indexed segments, with why it happened. */
@Entity('recording_gaps')
@Index('uq_recording_gaps_camera_start', ['cameraId', 'gapStart'], { unique: true })
export class RecordingGapEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', name: 'gap_start' }) gapStart!: string;
  @Column({ type: 'text', name: 'gap_end' }) gapEnd!: string;
  @Column({ type: 'double precision', name: 'gap_seconds' }) gapSeconds!: number;
  @Column({ type: 'text', default: 'unknown' }) cause!: GapCause;
  @Column({ type: 'text', name: 'fill_state', default: 'pending' }) fillState!: string;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
}
