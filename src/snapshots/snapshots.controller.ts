import { Body, Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireCapability } from '../auth/decorators';
import { authorizeMediaPath, resolveUnderRoot, sendMediaFile } from '../auth/media-guard';
import { Principal } from '../auth/principal';
import { CameraRowRoute } from '../cameras/camera-rows.routes';
import {
  CreateSnapshotScheduleDto,
  SnapshotDto,
  SnapshotScheduleDto,
  SnapshotsQueryDto,
  UpdateSnapshotScheduleDto,
} from './dto/snapshot.dto';
import { SnapshotsService } from './snapshots.service';

@ApiTags('snapshots')
@Controller()
export class SnapshotsController {
  constructor(private readonly snapshots: SnapshotsService) {}

  @CameraRowRoute.list(
    'api/v1/cameras/:id/snapshot-schedules',
    'A camera’s snapshot schedules (a JPEG every interval_seconds)',
    SnapshotScheduleDto,
  )
  async listSchedules(@Principal() p: Principal, @Param('id') id: string): Promise<SnapshotScheduleDto[]> {
    return (await this.snapshots.listSchedules(p, id)).map(SnapshotScheduleDto.from);
  }

  @CameraRowRoute.create(
    'api/v1/cameras/:id/snapshot-schedules',
    'Take a JPEG of the camera every interval_seconds (the first one at once)',
    SnapshotScheduleDto,
    'interval_seconds not an integer in 5..86400',
  )
  async createSchedule(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: CreateSnapshotScheduleDto,
  ): Promise<SnapshotScheduleDto> {
    return SnapshotScheduleDto.from(await this.snapshots.createSchedule(p, id, dto));
  }

  @CameraRowRoute.update(
    'api/v1/snapshot-schedules/:id',
    'Change a snapshot schedule (only the fields sent)',
    SnapshotScheduleDto,
  )
  async updateSchedule(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateSnapshotScheduleDto,
  ): Promise<SnapshotScheduleDto> {
    return SnapshotScheduleDto.from(await this.snapshots.updateSchedule(p, id, dto));
  }

  @CameraRowRoute.delete(
    'api/v1/snapshot-schedules/:id',
    'Remove a snapshot schedule (its snapshots stay until retention)',
  )
  async deleteSchedule(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.snapshots.deleteSchedule(p, id);
  }

  @Get('api/v1/cameras/:id/snapshots')
  @RequireCapability('video:playback')
  @ApiOperation({ summary: 'Snapshots taken in [from, to), newest first, with the URL of each JPEG' })
  @ApiOkResponse({ type: [SnapshotDto] })
  @ApiBadRequestResponse()
  @ApiNotFoundResponse()
  async list(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Query() q: SnapshotsQueryDto,
  ): Promise<SnapshotDto[]> {
    return (await this.snapshots.list(p, id, q.from, q.to, q.limit ?? 100)).map(SnapshotDto.from);
  }

  /** Through the media-plane guard (traversal refused, video:playback, camera scope by the path's
   * camera), like the recordings. Needs at least `<camera>/<file>`: `/media/snapshots/<file>`
   * alone is a zone event's evidence frame. */
  @Get('media/snapshots/:id/*path')
  @RequireCapability('video:playback')
  @ApiOperation({ summary: 'A scheduled snapshot JPEG; the URL comes from the snapshots list' })
  @ApiProduces('image/jpeg')
  async media(@Principal() p: Principal, @Req() req: Request, @Res() res: Response): Promise<void> {
    const raw = req.originalUrl.split('?')[0].replace(/^\/media\//, '');
    const target = authorizeMediaPath(p, raw);
    const file = await resolveUnderRoot(this.snapshots.rootDir, target.relPath);
    await sendMediaFile(res, file);
  }
}
