import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber, type JsonObject, jsonText } from '../../database/columns';

/** An exported clip: who exported which range, what it covers, and the file's SHA-256. */
@Entity('clips')
@Index('idx_clips_camera_created', ['cameraId', 'createdAt'])
export class ClipEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text' }) file!: string;
  @Column({ type: 'text', name: 'from_time' }) fromTime!: string;
  @Column({ type: 'text', name: 'to_time' }) toTime!: string;
  @Column({ type: 'double precision', name: 'requested_seconds' }) requestedSeconds!: number;
  @Column({ type: 'double precision', name: 'covered_seconds' }) coveredSeconds!: number;
  @Column({ type: 'text', default: '[]', transformer: jsonText }) gaps!: JsonObject[];
  @Column({ type: 'integer', name: 'segment_count' }) segmentCount!: number;
  @Column({ type: 'bigint', name: 'size_bytes', transformer: bigintNumber }) sizeBytes!: number;
  @Column({ type: 'text' }) sha256!: string;
  @Column({ type: 'text', name: 'created_by' }) createdBy!: string;
  @Column({ type: 'text', name: 'created_by_name', nullable: true }) createdByName!: string | null;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  /** Held as evidence: never deleted by retention (TTL or free-disk floor). */
  @Column({ type: 'boolean', name: 'evidence_locked', default: false }) evidenceLocked!: boolean;
  /** The node whose disk holds the file (cluster with per-node storage); null on a single node or
   * shared storage. Another node serves it through that one. */
  @Column({ type: 'text', name: 'node_id', nullable: true }) nodeId?: string | null;
}
