import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { CamerasService } from '../cameras/cameras.service';
import { NotFoundError } from '../common/errors';
import { RecorderService } from './recorder.service';
import { CameraHealthDto, toCameraHealthDto } from './dto/recorder.dto';

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
    const rows = await this.recorder.listStatuses(p.cameraScope === 'all' ? undefined : p.cameraScope);
    return rows.map(toCameraHealthDto);
  }

  @Get('cameras/:id/health')
  @RequireCapability('camera:read')
  @ApiOkResponse({ type: CameraHealthDto })
  @ApiNotFoundResponse()
  async get(@Principal() p: Principal, @Param('id') id: string): Promise<CameraHealthDto> {
    await this.cameras.assertVisible(p, id, 'read its health');
    const st = await this.recorder.getStatus(id);
    if (!st) throw new NotFoundError(`no status for camera \`${id}\` yet`, 'STATUS_NOT_FOUND');
    return toCameraHealthDto(st);
  }
}
