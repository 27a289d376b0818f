import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import type { Response } from 'express';
import { join } from 'node:path';
import { RequireCapability } from '../auth/decorators';
import { sendMediaFile } from '../auth/media-guard';
import { Principal } from '../auth/principal';
import { NotFoundError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';
import { Inject } from '@nestjs/common';
import type { JsonObject } from '../database/columns';
import { SEVERITIES } from '../events/event-types';
import type { ZoneEntity } from './entities/zone.entity';
import type { ZoneEventEntity } from './entities/zone-event.entity';
import { ZonesService } from './zones.service';
import { QueryLimit } from '../common/validation';
import { assertInScope } from '../common/validation';

class CreateZoneDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(120) name!: string;
  @ApiPropertyOptional({ enum: ['region', 'presence', 'line'], default: 'region' })
  @IsOptional()
  @IsIn(['region', 'presence', 'line'])
  kind?: 'region' | 'presence' | 'line';
  @ApiProperty({
    description: '[[x, y], …] normalized 0..1, top-left origin; 3..512 points, a line exactly 2',
    type: 'array',
    items: { type: 'array', items: { type: 'number' } },
  })
  @IsArray()
  @ArrayMaxSize(512)
  polygon!: Array<[number, number]>;
  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(86_400)
  dwell_seconds?: number;
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  labels?: string[];
  @ApiPropertyOptional({ enum: SEVERITIES, default: 'info' })
  @IsOptional()
  @IsIn(SEVERITIES)
  severity?: string;
  @ApiPropertyOptional({
    type: Object,
    description:
      'min_confidence, confirm_frames, direction (any|ab|ba), static_suppression, static_epsilon, static_after_seconds',
  })
  @IsOptional()
  @IsObject()
  config?: JsonObject;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
}

class UpdateZoneDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(120) name?: string;
  @ApiPropertyOptional({ enum: ['region', 'presence', 'line'] })
  @IsOptional()
  @IsIn(['region', 'presence', 'line'])
  kind?: 'region' | 'presence' | 'line';
  @ApiPropertyOptional({ type: 'array', items: { type: 'array', items: { type: 'number' } } })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(512)
  polygon?: Array<[number, number]>;
  @ApiPropertyOptional()
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(86_400)
  dwell_seconds?: number;
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  labels?: string[];
  @ApiPropertyOptional({ enum: SEVERITIES }) @IsOptional() @IsIn(SEVERITIES) severity?: string;
  @ApiPropertyOptional({ type: Object }) @IsOptional() @IsObject() config?: JsonObject;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
}

class ZoneDto {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() kind!: string;
  @ApiProperty({ type: 'array', items: { type: 'array', items: { type: 'number' } } }) polygon!: Array<
    [number, number]
  >;
  @ApiProperty() dwell_seconds!: number;
  @ApiProperty({ type: [String] }) labels!: string[];
  @ApiProperty() severity!: string;
  @ApiProperty({ type: Object }) config!: JsonObject;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

class ZoneEventQuery {
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) zone_id?: string;
  @ApiPropertyOptional({ enum: ['enter', 'exit', 'dwell', 'cross_ab', 'cross_ba'] })
  @IsOptional()
  @IsIn(['enter', 'exit', 'dwell', 'cross_ab', 'cross_ba'])
  event_type?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) track_id?: string;
  @QueryLimit(200, 5000)
  limit?: number;
}

class AggregateQuery {
  @ApiPropertyOptional({ description: 'default to − 24 h' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;
  @ApiPropertyOptional({ description: 'default now' }) @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional({ default: 60 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1440)
  bucket_minutes?: number;
}

class ZoneEventDto {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty() zone_id!: string;
  @ApiProperty() zone_name!: string;
  @ApiProperty() track_id!: string;
  @ApiProperty() event_type!: string;
  @ApiProperty() label!: string;
  @ApiProperty() timestamp!: string;
  @ApiProperty({ nullable: true, type: Number }) dwell_seconds!: number | null;
  @ApiProperty({ nullable: true, type: String }) evidence_path!: string | null;
  @ApiProperty() created_at!: string;
}

const zoneDto = (z: ZoneEntity): ZoneDto => ({
  id: z.id,
  camera_id: z.cameraId,
  name: z.name,
  kind: z.kind,
  polygon: z.polygon,
  dwell_seconds: z.dwellSeconds,
  labels: z.labels,
  severity: z.severity,
  config: z.config,
  enabled: z.enabled,
  created_at: z.createdAt,
  updated_at: z.updatedAt,
});

const eventDto = (e: ZoneEventEntity): ZoneEventDto => ({
  id: e.id,
  camera_id: e.cameraId,
  zone_id: e.zoneId,
  zone_name: e.zoneName,
  track_id: e.trackId,
  event_type: e.eventType,
  label: e.label,
  timestamp: e.timestamp,
  dwell_seconds: e.dwellSeconds,
  evidence_path: e.evidencePath,
  created_at: e.createdAt,
});

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
