import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One JPEG a snapshot schedule took; `path` is relative to `<data>/snapshots`. */
@Entity('snapshots')
@Index('idx_snapshots_camera_taken', ['cameraId', 'takenAt'])
@Index('idx_snapshots_taken', ['takenAt'])
export class SnapshotEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', name: 'taken_at' }) takenAt!: string;
  @Column({ type: 'text' }) path!: string;
  @Column({ type: 'integer', name: 'size_bytes' }) sizeBytes!: number;
  /** The node whose data dir holds the file (per-node storage in a cluster, like
   * `segments.node_id`); null on a single node, with shared storage, and for rows from before. */
  @Column({ type: 'text', name: 'node_id', nullable: true }) nodeId?: string | null;
}
