import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { join } from 'node:path';
import { RequireCapability } from '../auth/decorators';
import { sendMediaFile } from '../auth/media-guard';
import { Principal } from '../auth/principal';
import { NotFoundError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';
import { Inject } from '@nestjs/common';
import { ZonesService } from './zones.service';
import { assertInScope } from '../common/validation';
import {
  CreateZoneDto,
  UpdateZoneDto,
  ZoneDto,
  ZoneEventQuery,
  AggregateQuery,
  ZoneEventDto,
  zoneDto,
  eventDto,
} from './dto/zone.dto';

const iso = (v?: string) => (v ? new Date(v).toISOString() : undefined);

@ApiTags('zones')
@Controller()
export class ZonesController {
  constructor(
    private readonly zones: ZonesService,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  @Get('api/v1/cameras/:id/zones')
  @RequireCapability('events:read')
  @ApiOkResponse({ type: [ZoneDto] })
  async list(@Param('id') id: string): Promise<ZoneDto[]> {
    return (await this.zones.list(id)).map(zoneDto);
  }

  @Post('api/v1/cameras/:id/zones')
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Create a zone (201), or get the existing one of that name (200)' })
  @ApiCreatedResponse({ type: ZoneDto })
  async create(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: CreateZoneDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ZoneDto> {
    const { zone, created } = await this.zones.create(p, id, dto);
    res.status(created ? 201 : 200);
    return zoneDto(zone);
  }

  @Patch('api/v1/zones/:id')
  @RequireCapability('registry:manage')
  @ApiOkResponse({ type: ZoneDto })
  async update(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateZoneDto,
  ): Promise<ZoneDto> {
    return zoneDto(await this.zones.update(p, id, dto));
  }

  @Delete('api/v1/zones/:id')
  @HttpCode(204)
  @RequireCapability('registry:manage')
  async remove(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.zones.delete(p, id);
  }

  @Get('api/v1/cameras/:id/zone-events')
  @RequireCapability('events:read')
  @ApiOkResponse({ type: [ZoneEventDto] })
  async events(@Param('id') id: string, @Query() q: ZoneEventQuery): Promise<ZoneEventDto[]> {
    const rows = await this.zones.zoneEvents({
      cameraId: id,
      from: iso(q.from),
      to: iso(q.to),
      zoneId: q.zone_id,
      eventType: q.event_type,
      trackId: q.track_id,
      limit: q.limit ?? 200,
    });
    return rows.map(eventDto);
  }

  @Get('api/v1/cameras/:id/zone-events/aggregates')
  @RequireCapability('events:read')
  @ApiOperation({ summary: 'Zone event counts per zone, type and epoch-aligned bucket' })
  @ApiOkResponse({ type: Object })
  aggregates(@Param('id') id: string, @Query() q: AggregateQuery) {
    const to = iso(q.to) ?? new Date().toISOString();
    const from = iso(q.from) ?? new Date(Date.parse(to) - 86_400_000).toISOString();
    return this.zones.aggregates(id, from, to, q.bucket_minutes ?? 60);
  }

  @Get('api/v1/cameras/:id/zones/occupancy')
  @RequireCapability('events:read')
  @ApiOkResponse({ type: Object })
  async occupancy(@Param('id') id: string) {
    return { zones: await this.zones.occupancyOf(id) };
  }

  @Get('media/snapshots/:id')
  @RequireCapability('events:read')
  @ApiOperation({ summary: 'Evidence frame of a zone event (camera scope applies)' })
  @ApiProduces('image/jpeg')
  async evidence(@Principal() p: Principal, @Param('id') file: string, @Res() res: Response): Promise<void> {
    const owner = await this.zones.evidenceOwner(file);
    // For a scoped caller "missing" and "another camera's" answer the same 403.
    assertInScope(p, owner?.cameraId, `credential is not scoped to the camera of evidence \`${file}\``);
    if (!owner || !owner.evidencePath) throw new NotFoundError(`evidence \`${file}\` not found`, 'NOT_FOUND');
    await sendMediaFile(res, join(this.config.dataDirAbs, 'snapshots', file));
  }
}
