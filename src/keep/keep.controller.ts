import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { BadRequestError } from '../common/errors';
import type { KeepWindowEntity } from './entities/keep-window.entity';
import { KeepService, type TriggerResult } from './keep.service';
import { QueryLimit } from '../common/validation';

/* eslint-disable no-control-regex */
const NO_CONTROL = /^[^\x00-\x1f\x7f]*$/;
/* eslint-enable no-control-regex */

class RecordTriggerDto {
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

class KeepWindowRefDto {
  @ApiProperty() id!: string;
  @ApiProperty() start!: string;
  @ApiProperty() end!: string;
  @ApiProperty() reason!: string;
  @ApiProperty() trigger_count!: number;
}

class TriggerResultDto {
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

class KeepWindowDto {
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

class KeepWindowQuery {
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

@ApiTags('recording')
@Controller('api/v1/cameras/:id')
export class KeepController {
  constructor(private readonly keep: KeepService) {}

  @Post('record-trigger')
  @HttpCode(200)
  @RequireCapability('ai:ingest')
  @ApiOperation({
    summary:
      'Trigger event recording (a door contact, an alarm panel, a person): keep [now − pre_roll, now + post_roll] of an event camera',
    description:
      'Opens or extends the camera’s keep window (windows only grow). On a camera that does not record on events the trigger is logged (`recording_triggered`) and `window` is null. Needs `ai:ingest` (the integration role has it) and the camera in scope; audited.',
  })
  @ApiOkResponse({ type: TriggerResultDto })
  @ApiBadRequestResponse()
  @ApiNotFoundResponse()
  trigger(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: RecordTriggerDto,
  ): Promise<TriggerResult> {
    return this.keep.triggerByRequest(p, id, dto);
  }

  @Get('keep-windows')
  @RequireCapability('camera:read')
  @ApiOperation({ summary: 'An event camera’s keep windows overlapping [from, to] (why its footage exists)' })
  @ApiOkResponse({ type: [KeepWindowDto] })
  @ApiNotFoundResponse()
  async windows(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Query() q: KeepWindowQuery,
  ): Promise<KeepWindowDto[]> {
    const to = q.to ?? new Date().toISOString();
    const from = q.from ?? new Date(Date.parse(to) - 86_400_000).toISOString();
    if (Date.parse(from) > Date.parse(to))
      throw new BadRequestError('from must not be after to', 'VALIDATION_FAILED');
    return (
      await this.keep.windows(p, id, new Date(from).toISOString(), new Date(to).toISOString(), q.limit ?? 500)
    ).map(KeepWindowDto.from);
  }
}
