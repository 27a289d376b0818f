import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
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
import type { JsonObject } from '../../database/columns';
import { SEVERITIES } from '../../events/event-types';
import type { ZoneEntity } from '../entities/zone.entity';
import type { ZoneEventEntity } from '../entities/zone-event.entity';
import { QueryLimit } from '../../common/validation';

export class CreateZoneDto {
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

/** Every field of a zone, each optional (absent: unchanged). */
export class UpdateZoneDto extends PartialType(CreateZoneDto) {}

export class ZoneDto {
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

export class ZoneEventQuery {
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

export class AggregateQuery {
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

export class ZoneEventDto {
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

export const zoneDto = (z: ZoneEntity): ZoneDto => ({
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

export const eventDto = (e: ZoneEventEntity): ZoneEventDto => ({
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
