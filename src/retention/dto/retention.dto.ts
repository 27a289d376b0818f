import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNumber, IsOptional, IsPositive, Min } from 'class-validator';
import type { Forecast } from '../retention-logic';
import type { SweepReport } from '../retention.service';

export class SweepQueryDto {
  @ApiPropertyOptional({
    description:
      'true: also reclaim orphan files (lists every day folder of every camera; otherwise hourly on its own)',
    enum: ['true', 'false'],
    default: 'false',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'orphans must be true or false' })
  orphans?: 'true' | 'false';
}

export class UpdateRetentionDto {
  @ApiPropertyOptional({
    description:
      'cap on all recordings in GiB (> 0); null removes the override (back to HELDAR_MAX_RECORDINGS_GB)',
    nullable: true,
    type: Number,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive({ message: 'max_recordings_gb must be greater than 0' })
  max_recordings_gb?: number | null;

  @ApiPropertyOptional({
    description: 'free space kept on the recordings volume in GiB (>= 0); null removes the override',
    nullable: true,
    type: Number,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  min_free_disk_gb?: number | null;
}

export class RetentionDto {
  @ApiProperty() max_recordings_gb!: number;
  @ApiProperty() max_recordings_bytes!: number;
  @ApiProperty({ description: 'true when set through the API rather than the environment' })
  max_overridden!: boolean;
  @ApiProperty() min_free_disk_gb!: number;
  @ApiProperty() min_free_disk_bytes!: number;
  @ApiProperty() min_free_overridden!: boolean;
  @ApiProperty() interval_s!: number;
  @ApiProperty() clip_retention_hours!: number;
  @ApiProperty() snapshot_retention_hours!: number;
  @ApiProperty() detection_retention_hours!: number;
  @ApiProperty() audit_retention_days!: number;
  @ApiProperty({
    description:
      'recordings, protected (evidence/read-locked) and scheduled-snapshot bytes, and the volume; null for scoped callers',
    nullable: true,
    type: Object,
  })
  usage!: {
    recordings_bytes: number;
    protected_bytes: number;
    /** Bytes of the scheduled snapshots (pruned by HELDAR_SNAPSHOT_RETENTION_HOURS). */
    snapshots_bytes: number;
    disk: { total_bytes: number; free_bytes: number } | null;
  } | null;
  @ApiProperty({
    description:
      "at the last 24 h write rate: days the store and each camera keep, each camera's fair share, whether its retention_hours is achievable and what limits it",
    type: Object,
  })
  forecast!: Forecast;
  @ApiProperty({ description: 'what the last sweep did', nullable: true, type: Object })
  last_sweep!: SweepReport | null;
}
