import { Column, Entity, PrimaryColumn } from 'typeorm';

/** `idle`: not recording because the camera's schedule is closed (not a failure). */
export type CameraState = 'unknown' | 'disabled' | 'idle' | 'connecting' | 'recording' | 'offline' | 'error';

/** One row per camera: what its recorder is doing. Owned by the recorder module. */
@Entity('camera_status')
export class CameraStatusEntity {
  @PrimaryColumn({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', default: 'unknown' }) state!: CameraState;
  @Column({ type: 'text', name: 'last_segment_at', nullable: true }) lastSegmentAt!: string | null;
  @Column({ type: 'text', name: 'last_started_at', nullable: true }) lastStartedAt!: string | null;
  @Column({ type: 'integer', name: 'reconnect_count', default: 0 }) reconnectCount!: number;
  @Column({ type: 'integer', name: 'segments_written', default: 0 }) segmentsWritten!: number;
  @Column({ type: 'double precision', name: 'fps_observed', nullable: true }) fpsObserved!: number | null;
  @Column({ type: 'double precision', name: 'bitrate_kbps', nullable: true }) bitrateKbps!: number | null;
  @Column({ type: 'text', name: 'last_error', nullable: true }) lastError!: string | null;
  @Column({ type: 'integer', nullable: true }) pid!: number | null;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
