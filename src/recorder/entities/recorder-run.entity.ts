import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { RunEndReason } from '../recorder-runs';

/** One row per ffmpeg run of a recorder: when it started, when and why it ended. Gap causes are
 * derived from these (camera lost, recorder stopped, kernel down, storage). */
@Entity('recorder_runs')
@Index('idx_recorder_runs_camera_end', ['cameraId', 'endedAt'])
export class RecorderRunEntity {
  @PrimaryGeneratedColumn('increment', { type: 'integer' }) id!: number;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', name: 'started_at' }) startedAt!: string;
  @Column({ type: 'text', name: 'ended_at', nullable: true }) endedAt!: string | null;
  @Column({ type: 'text', name: 'end_reason', nullable: true }) endReason!: RunEndReason | null;
  @Column({ type: 'text', nullable: true }) detail!: string | null;
  /** The node whose ffmpeg ran (PostgreSQL); null on SQLite. A booting node closes only its own. */
  @Column({ type: 'text', name: 'node_id', nullable: true }) nodeId?: string | null;
}
