import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { CamerasService } from './cameras.service';
import {
  CameraDto,
  CameraTestDto,
  CameraVendorDto,
  CreateCameraDto,
  UpdateCameraDto,
} from './dto/camera.dto';
import { describeVendors } from './vendor-templates';

@ApiTags('cameras')
@Controller('api/v1')
export class CamerasController {
  constructor(private readonly cameras: CamerasService) {}

  @Get('cameras')
  @RequireCapability('camera:read')
  @ApiOperation({ summary: 'List cameras (filtered to the caller’s camera scope)' })
  @ApiOkResponse({ type: [CameraDto] })
  getAll(@Principal() p: Principal): Promise<CameraDto[]> {
    return this.cameras.list(p);
  }

  @Post('cameras')
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Register a camera' })
  @ApiCreatedResponse({ type: CameraDto })
  @ApiBadRequestResponse({ description: 'invalid field, unknown vendor or site' })
  @ApiConflictResponse({ description: 'a camera with that id exists' })
  create(@Principal() p: Principal, @Body() dto: CreateCameraDto): Promise<CameraDto> {
    return this.cameras.create(p, dto);
  }

  @Get('cameras/:id')
  @RequireCapability('camera:read')
  @ApiOkResponse({ type: CameraDto })
  @ApiNotFoundResponse()
  get(@Principal() p: Principal, @Param('id') id: string): Promise<CameraDto> {
    return this.cameras.get(p, id);
  }

  @Patch('cameras/:id')
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Change a camera (only the fields sent)' })
  @ApiOkResponse({ type: CameraDto })
  @ApiNotFoundResponse()
  update(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateCameraDto,
  ): Promise<CameraDto> {
    return this.cameras.update(p, id, dto);
  }

  @Delete('cameras/:id')
  @HttpCode(204)
  @RequireCapability('admin')
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  delete(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    return this.cameras.delete(p, id);
  }

  @Post('cameras/:id/test')
  @HttpCode(200)
  @RequireCapability('camera:read')
  @ApiOperation({ summary: 'Probe the record stream with ffprobe (12 s timeout)' })
  @ApiOkResponse({ type: CameraTestDto })
  test(@Principal() p: Principal, @Param('id') id: string): Promise<CameraTestDto> {
    return this.cameras.test(p, id);
  }

  @Get('cameras/:id/test')
  @RequireCapability('camera:read')
  @ApiOperation({ summary: 'Same as POST (kept for the reference’s clients)' })
  @ApiOkResponse({ type: CameraTestDto })
  testGet(@Principal() p: Principal, @Param('id') id: string): Promise<CameraTestDto> {
    return this.cameras.test(p, id);
  }

  @Get('camera-vendors')
  @RequireCapability('camera:read')
  @ApiOperation({ summary: 'Known vendors and the RTSP URL shapes their templates build' })
  @ApiOkResponse({ type: [CameraVendorDto] })
  getVendors(): CameraVendorDto[] {
    return describeVendors().map((v) => ({
      id: v.id,
      name: v.name,
      default_port: v.defaultPort,
      main_url: v.mainUrl,
      sub_url: v.subUrl,
      uses_channel: v.usesChannel,
      ...(v.notes ? { notes: v.notes } : {}),
    }));
  }
}
