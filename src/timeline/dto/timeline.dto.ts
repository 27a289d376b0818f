import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';
import { FastQuery, intField, iso8601Field } from '../../common/query-fast-path';
import { QueryLimit } from '../../common/validation';

@FastQuery({ from: iso8601Field, to: iso8601Field })
export class TimeWindowQueryDto {
  @ApiPropertyOptional({ description: 'RFC 3339 start of the window' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an RFC 3339 timestamp' })
  from?: string;

  @ApiPropertyOptional({ description: 'RFC 3339 end of the window' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an RFC 3339 timestamp' })
  to?: string;
}

@FastQuery({ from: iso8601Field, to: iso8601Field, limit: intField(1, 5000) })
export class SegmentsQueryDto extends TimeWindowQueryDto {
  @QueryLimit(500, 5000)
  limit?: number;
}

export class RecordingGapsQueryDto {
  @ApiPropertyOptional({ enum: ['pending', 'filled', 'failed'] })
  @IsOptional()
  @IsIn(['pending', 'filled', 'failed'])
  state?: string;

  @QueryLimit(500, 5000)
  limit?: number;
}

export class SegmentDto {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty({ description: '`<camera>/<file>` under the recordings root' }) path!: string;
  @ApiProperty() start_time!: string;
  @ApiProperty() end_time!: string;
  @ApiProperty() duration_s!: number;
  @ApiProperty({ nullable: true, type: String }) codec!: string | null;
  @ApiProperty({ nullable: true, type: Number }) width!: number | null;
  @ApiProperty({ nullable: true, type: Number }) height!: number | null;
  @ApiProperty({ nullable: true, type: Number }) fps!: number | null;
  @ApiProperty() size_bytes!: number;
  @ApiProperty() container!: string;
  @ApiProperty({ description: 'transient read-lock count (exports in progress)' }) locked!: number;
  @ApiProperty() evidence_locked!: boolean;
  @ApiProperty({ nullable: true, type: String }) incident_id!: string | null;
  @ApiProperty({
    description:
      'why the segment exists: `continuous`, `schedule`, `event:<reason>` (inside a keep window), `lock` (outside every keep window but locked), `pending` (an event camera’s segment before its decision)',
  })
  kept_by!: string;
  @ApiProperty() created_at!: string;
  @ApiProperty({ description: 'media URL (served with HTTP Range)' }) url!: string;
}

export class TimeRangeDto {
  @ApiProperty() start!: string;
  @ApiProperty() end!: string;
  @ApiProperty() seconds!: number;
}

export class TimelineDto {
  @ApiProperty() camera_id!: string;
  @ApiProperty({ nullable: true, type: String }) from!: string | null;
  @ApiProperty({ nullable: true, type: String }) to!: string | null;
  @ApiProperty({ type: [TimeRangeDto], description: 'contiguous recorded ranges (holes ≤ 2 s joined)' })
  ranges!: TimeRangeDto[];
  @ApiProperty() recorded_seconds!: number;
  @ApiProperty() segment_count!: number;
}

export class GapDto extends TimeRangeDto {
  @ApiProperty({
    enum: [
      'camera_offline',
      'recorder_stopped',
      'server_down',
      'storage_error',
      'not_scheduled',
      'no_event',
      'node_failover',
      'unknown',
    ],
    description:
      'why nothing was recorded (`not_scheduled`: outside the camera’s schedule; `no_event`: an event camera’s footage outside every keep window — neither is a failure; `node_failover`: the cluster node recording the camera died or was cut off and another took it over)',
  })
  cause!: string;
}

export class GapsDto {
  @ApiProperty() camera_id!: string;
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ type: [GapDto] }) gaps!: GapDto[];
  @ApiProperty() gap_count!: number;
  @ApiProperty() total_gap_seconds!: number;
}

export class RecordingGapDto {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty() gap_start!: string;
  @ApiProperty() gap_end!: string;
  @ApiProperty() gap_seconds!: number;
  @ApiProperty() cause!: string;
  @ApiProperty() fill_state!: string;
  @ApiProperty() created_at!: string;
}
