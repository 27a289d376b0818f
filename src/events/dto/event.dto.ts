import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';
import type { KernelEvent } from '../event-bus';
import { SEVERITIES } from '../event-types';
import { QueryLimit } from '../../common/validation';

export class EventQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) camera_id?: string;

  @ApiPropertyOptional({ description: 'exact type, or a prefix ending in `*` (e.g. `zone_*`)' })
  @IsOptional()
  @Matches(/^[a-z0-9_]{1,64}\*?$|^\*$/, { message: 'event_type must be a type name or a prefix ending in *' })
  event_type?: string;

  @ApiPropertyOptional({ enum: SEVERITIES, description: 'minimum severity' })
  @IsOptional()
  @IsIn(SEVERITIES)
  severity?: string;

  @ApiPropertyOptional({ description: 'only events after this seq, ascending (polling cursor)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  since_seq?: number;

  @QueryLimit(200, 2000)
  limit?: number;
}

/** `GET /events/stream`: the list's filters, `min_severity`, and `since_seq` for clients that cannot send `Last-Event-ID`. */
export class EventStreamQueryDto extends PickType(EventQueryDto, ['camera_id', 'event_type'] as const) {
  @ApiPropertyOptional({ enum: SEVERITIES, description: 'minimum severity' })
  @IsOptional()
  @IsIn(SEVERITIES)
  min_severity?: string;

  @ApiPropertyOptional({
    description: 'replay events after this seq first (the `Last-Event-ID` header wins when both are sent)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  since_seq?: number;
}

export class EventDto {
  @ApiProperty() seq!: number;
  @ApiProperty() id!: string;
  @ApiProperty({ nullable: true, type: String }) camera_id!: string | null;
  @ApiProperty({ nullable: true, type: String }) site_id!: string | null;
  @ApiProperty() event_type!: string;
  @ApiProperty({ enum: SEVERITIES }) severity!: string;
  @ApiProperty() timestamp!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) payload!: Record<string, unknown>;
  @ApiProperty() created_at!: string;

  static from(e: KernelEvent): EventDto {
    return {
      seq: e.seq,
      id: e.id,
      camera_id: e.cameraId,
      site_id: e.siteId,
      event_type: e.eventType,
      severity: e.severity,
      timestamp: e.timestamp,
      payload: e.payload,
      created_at: e.createdAt,
    };
  }
}

export class EventTypeDto {
  @ApiProperty() event_type!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ enum: ['kernel', 'observed'] }) source!: string;
}
