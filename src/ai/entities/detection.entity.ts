import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type JsonObject, jsonText } from '../../database/columns';

/** One detection of an ingested batch (normalized `[x, y, w, h]` bbox). */
@Entity('detections')
@Index('idx_detections_camera_ts', ['cameraId', 'timestamp'])
@Index('idx_detections_camera_frame', ['cameraId', 'frameId'])
@Index('idx_detections_created', ['createdAt'])
export class DetectionEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', name: 'task_type' }) taskType!: string;
  @Column({ type: 'text' }) timestamp!: string;
  @Column({ type: 'text' }) label!: string;
  @Column({ type: 'double precision', nullable: true }) confidence!: number | null;
  @Column({ type: 'text', nullable: true, transformer: jsonText }) bbox!: number[] | null;
  @Column({ type: 'text', name: 'track_id', nullable: true }) trackId!: string | null;
  @Column({ type: 'text', default: '{}', transformer: jsonText }) attributes!: JsonObject;
  @Column({ type: 'text', name: 'frame_id', nullable: true }) frameId!: string | null;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
}
