import { ApiProperty } from '@nestjs/swagger';
import type { CameraStatusEntity } from '../entities/camera-status.entity';

export class CameraHealthDto {
  @ApiProperty() camera_id!: string;
  @ApiProperty({
    enum: ['unknown', 'disabled', 'idle', 'connecting', 'recording', 'offline', 'error'],
    description: '`idle`: outside the camera’s schedule windows',
  })
  state!: string;
  @ApiProperty({ nullable: true, type: String }) last_segment_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) last_started_at!: string | null;
  @ApiProperty() reconnect_count!: number;
  @ApiProperty() segments_written!: number;
  @ApiProperty({ nullable: true, type: Number }) fps_observed!: number | null;
  @ApiProperty({ nullable: true, type: Number }) bitrate_kbps!: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'last recorder output, credentials masked' })
  last_error!: string | null;
  @ApiProperty({ nullable: true, type: Number }) pid!: number | null;
  @ApiProperty() updated_at!: string;
}

export function toCameraHealthDto(s: CameraStatusEntity): CameraHealthDto {
  return {
    camera_id: s.cameraId,
    state: s.state,
    last_segment_at: s.lastSegmentAt,
    last_started_at: s.lastStartedAt,
    reconnect_count: s.reconnectCount,
    segments_written: s.segmentsWritten,
    fps_observed: s.fpsObserved,
    bitrate_kbps: s.bitrateKbps,
    last_error: s.lastError,
    pid: s.pid,
    updated_at: s.updatedAt,
  };
}
