import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { CamerasService } from '../cameras/cameras.service';
import { NotFoundError } from '../common/errors';
import type { CameraStatusEntity } from './entities/camera-status.entity';
import { RecorderService } from './recorder.service';

class CameraHealthDto {
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

function toDto(s: CameraStatusEntity): CameraHealthDto {
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

@ApiTags('health')
@Controller('api/v1')
export class RecorderController {
  constructor(
    private readonly recorder: RecorderService,
    private readonly cameras: CamerasService,
  ) {}

  @Get('health/cameras')
  @RequireCapability('camera:read')
  @ApiOperation({ summary: 'Recorder status of every camera (filtered to the caller’s scope)' })
  @ApiOkResponse({ type: [CameraHealthDto] })
  async getAll(@Principal() p: Principal): Promise<CameraHealthDto[]> {
    const rows = await this.recorder.getStatuses(p.cameraScope === 'all' ? undefined : p.cameraScope);
    return rows.map(toDto);
  }

  @Get('cameras/:id/health')
  @RequireCapability('camera:read')
  @ApiOkResponse({ type: CameraHealthDto })
  @ApiNotFoundResponse()
  async get(@Principal() p: Principal, @Param('id') id: string): Promise<CameraHealthDto> {
    await this.cameras.assertVisible(p, id, 'read its health');
    const st = await this.recorder.getStatus(id);
    if (!st) throw new NotFoundError(`no status for camera \`${id}\` yet`, 'STATUS_NOT_FOUND');
    return toDto(st);
  }
}
