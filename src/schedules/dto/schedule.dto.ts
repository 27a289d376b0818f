import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
} from 'class-validator';
import type { RecordingScheduleEntity } from '../entities/recording-schedule.entity';

const DAYS_DOC = 'days the window opens on: 0 = Monday … 6 = Sunday';
const TIME_DOC =
  '"HH:MM" on the wall clock of the camera’s site time zone (the server’s zone without a site); an end at or before the start runs over midnight (the early part belongs to the day the window opened); end "24:00" is midnight';

export class CreateScheduleDto {
  @ApiProperty({ description: DAYS_DOC, type: [Number], example: [0, 1, 2, 3, 4] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(7)
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(6, { each: true })
  days!: number[];
  @ApiProperty({ description: TIME_DOC, example: '22:00' }) @IsString() time_start!: string;
  @ApiProperty({ description: TIME_DOC, example: '06:00' }) @IsString() time_end!: string;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
}

/** Every field of a window, each optional (absent: unchanged). */
export class UpdateScheduleDto extends PartialType(CreateScheduleDto) {}

export class ScheduleDto {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty({ type: [Number] }) days!: number[];
  @ApiProperty() time_start!: string;
  @ApiProperty() time_end!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;

  static from(r: RecordingScheduleEntity): ScheduleDto {
    return {
      id: r.id,
      camera_id: r.cameraId,
      days: r.days,
      time_start: r.timeStart,
      time_end: r.timeEnd,
      enabled: r.enabled,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
    };
  }
}
