import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { NO_CONTROL, QueryLimit } from '../../common/validation';
import type { KeepWindowEntity } from '../entities/keep-window.entity';

export class RecordTriggerDto {
  @ApiPropertyOptional({
    maxLength: 64,
    description: 'why (kept_by becomes `event:<reason>`); default `api`',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(NO_CONTROL, { message: 'reason must not contain control characters' })
  reason?: string;
  @ApiPropertyOptional({
    minimum: 0,
    maximum: 3600,
    description: 'this trigger’s post-roll (default: the camera’s)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3600)
  post_roll_seconds?: number;
}

export class KeepWindowDto {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty() start!: string;
  @ApiProperty() end!: string;
  @ApiProperty() reason!: string;
  @ApiProperty() trigger_count!: number;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;

  static from(w: KeepWindowEntity): KeepWindowDto {
    return {
      id: w.id,
      camera_id: w.cameraId,
      start: w.startTime,
      end: w.endTime,
      reason: w.reason,
      trigger_count: w.triggerCount,
      created_at: w.createdAt,
      updated_at: w.updatedAt,
    };
  }
}

/** The window a trigger opened or extended (the trigger's answer). */
export class KeepWindowRefDto extends PickType(KeepWindowDto, [
  'id',
  'start',
  'end',
  'reason',
  'trigger_count',
] as const) {}

export class TriggerResultDto {
  @ApiProperty() camera_id!: string;
  @ApiProperty({ enum: ['continuous', 'scheduled', 'event', 'scheduled_event'] }) mode!: string;
  @ApiProperty({
    type: KeepWindowRefDto,
    nullable: true,
    description:
      'the keep window opened or extended; null when the camera does not record on events (the trigger is only logged)',
  })
  window!: KeepWindowRefDto | null;
}

export class KeepWindowQuery {
  @ApiPropertyOptional({ description: 'default: 24 h before `to`' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;
  @ApiPropertyOptional({ description: 'default: now' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
  @QueryLimit(500, 5000)
  limit?: number;
}
