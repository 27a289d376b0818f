import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';
import type { ClipEntity } from '../entities/clip.entity';
import { QueryLimit } from '../../common/validation';

export class ClipRequestDto {
  @ApiProperty({ description: 'RFC 3339 start' }) @IsISO8601({ strict: true }) from!: string;
  @ApiProperty({ description: 'RFC 3339 end (at most 1 h after from)' })
  @IsISO8601({ strict: true })
  to!: string;
}

export class SnapshotQueryDto {
  @ApiPropertyOptional({ description: 'RFC 3339; absent = live' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'at must be an RFC 3339 timestamp' })
  at?: string;
}

export class ClipsQueryDto {
  @QueryLimit(100, 1000)
  limit?: number;
}

export class ClipGapDto {
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
}

export class ClipDto {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty() url!: string;
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty() requested_seconds!: number;
  @ApiProperty() covered_seconds!: number;
  @ApiProperty({ type: [ClipGapDto], description: 'holes inside the range' }) gaps!: ClipGapDto[];
  @ApiProperty() segment_count!: number;
  @ApiProperty() size_bytes!: number;
  @ApiProperty({ description: 'SHA-256 of the file, for chain of custody' }) sha256!: string;
  @ApiProperty() created_by!: string;
  @ApiProperty() created_at!: string;
  @ApiProperty({ description: 'held as evidence: retention never deletes it' }) evidence_locked!: boolean;
}

export function toClipDto(c: ClipEntity): ClipDto {
  return {
    id: c.id,
    camera_id: c.cameraId,
    url: `/media/clips/${c.file}`,
    from: c.fromTime,
    to: c.toTime,
    requested_seconds: c.requestedSeconds,
    covered_seconds: c.coveredSeconds,
    gaps: c.gaps as ClipGapDto[],
    segment_count: c.segmentCount,
    size_bytes: c.sizeBytes,
    sha256: c.sha256,
    created_by: c.createdByName ?? c.createdBy,
    created_at: c.createdAt,
    evidence_locked: c.evidenceLocked,
  };
}
