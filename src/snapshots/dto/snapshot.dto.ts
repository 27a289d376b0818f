import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { TimeWindowQueryDto } from '../../timeline/dto/timeline.dto';
import type { SnapshotEntity } from '../entities/snapshot.entity';
import type { SnapshotScheduleEntity } from '../entities/snapshot-schedule.entity';
import {
  SNAPSHOT_INTERVAL_DEFAULT_S,
  SNAPSHOT_INTERVAL_MAX_S,
  SNAPSHOT_INTERVAL_MIN_S,
} from '../snapshot-logic';
import { QueryLimit } from '../../common/validation';

const INTERVAL_DOC = `seconds between two snapshots (${SNAPSHOT_INTERVAL_MIN_S}..${SNAPSHOT_INTERVAL_MAX_S})`;

export class CreateSnapshotScheduleDto {
  @ApiPropertyOptional({
    description: INTERVAL_DOC,
    default: SNAPSHOT_INTERVAL_DEFAULT_S,
    minimum: SNAPSHOT_INTERVAL_MIN_S,
    maximum: SNAPSHOT_INTERVAL_MAX_S,
  })
  @IsOptional()
  @IsInt()
  @Min(SNAPSHOT_INTERVAL_MIN_S)
  @Max(SNAPSHOT_INTERVAL_MAX_S)
  interval_seconds?: number;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
}

export class UpdateSnapshotScheduleDto extends PartialType(CreateSnapshotScheduleDto) {}

export class SnapshotScheduleDto {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty() interval_seconds!: number;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;

  static from(r: SnapshotScheduleEntity): SnapshotScheduleDto {
    return {
      id: r.id,
      camera_id: r.cameraId,
      interval_seconds: r.intervalSeconds,
      enabled: r.enabled,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
    };
  }
}

export class SnapshotsQueryDto extends TimeWindowQueryDto {
  @QueryLimit(100, 1000)
  limit?: number;
}

export class SnapshotDto {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty({ description: 'when the frame was grabbed (RFC 3339, UTC)' }) taken_at!: string;
  @ApiProperty() size_bytes!: number;
  @ApiProperty({
    description: 'the JPEG (`/media/snapshots/<camera>/<day>/<file>.jpg`, camera scope applies)',
  })
  url!: string;

  static from(r: SnapshotEntity): SnapshotDto {
    return {
      id: r.id,
      camera_id: r.cameraId,
      taken_at: r.takenAt,
      size_bytes: r.sizeBytes,
      url: `/media/snapshots/${r.path.split('/').map(encodeURIComponent).join('/')}`,
    };
  }
}
