import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../../database/columns';

/** An indexed recording file. `path` is `<camera>/<file>` relative to the recordings root. */
@Entity('segments')
@Index('idx_segments_camera_start', ['cameraId', 'startTime'])
@Index('idx_segments_end', ['endTime'])
export class SegmentEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Index('uq_segments_path', { unique: true }) @Column({ type: 'text' }) path!: string;
  @Column({ type: 'text', name: 'start_time' }) startTime!: string;
  @Column({ type: 'text', name: 'end_time' }) endTime!: string;
  @Column({ type: 'double precision', name: 'duration_s' }) durationS!: number;
  @Column({ type: 'text', nullable: true }) codec!: string | null;
  @Column({ type: 'integer', nullable: true }) width!: number | null;
  @Column({ type: 'integer', nullable: true }) height!: number | null;
  @Column({ type: 'double precision', nullable: true }) fps!: number | null;
  @Column({ type: 'bigint', name: 'size_bytes', default: 0, transformer: bigintNumber }) sizeBytes!: number;
  @Column({ type: 'text', default: 'mp4' }) container!: string;
  /** Transient read-lock counter (exports); zeroed at boot. */
  @Column({ type: 'integer', default: 0 }) locked!: number;
  @Column({ type: 'boolean', name: 'evidence_locked', default: false }) evidenceLocked!: boolean;
  @Column({ type: 'text', name: 'incident_id', nullable: true }) incidentId!: string | null;
  /** Why the segment exists: `continuous`, `schedule`, `event:<reason>`; `pending` while an
   * event camera's segment waits for the decision; null on rows from before recording modes
   * (every camera recorded continuously then). */
  @Column({ type: 'text', name: 'kept_by', nullable: true }) keptBy?: string | null;
  /** The node whose disk holds the file (cluster with per-node storage); null on a single node or
   * shared storage. A node's reconciliation and retention touch only its own rows. */
  @Column({ type: 'text', name: 'node_id', nullable: true }) nodeId?: string | null;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
}
