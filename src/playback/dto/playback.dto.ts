import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { GapDto } from '../../timeline/dto/timeline.dto';
import { type PlaybackMode, type PlaybackSessionDto, type SkippedSegmentDto } from '../playback.service';

export class PlaybackRequestDto {
  @ApiProperty({ description: 'RFC 3339 start of the range' })
  @IsISO8601({ strict: true }, { message: 'from must be an RFC 3339 timestamp' })
  from!: string;
  @ApiPropertyOptional({
    description: 'RFC 3339 end; absent = a growing (EVENT) playlist that follows the recording',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an RFC 3339 timestamp' })
  to?: string;
}

export class SkippedSegmentResponse implements SkippedSegmentDto {
  @ApiProperty() segment_id!: string;
  @ApiProperty() start_time!: string;
  @ApiProperty({ example: 'ffmpeg remux failed (moov atom not found)' }) reason!: string;
}

export class PlaybackSessionResponse implements PlaybackSessionDto {
  @ApiProperty({ example: 'pbs_0193…' }) id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty({
    description: 'HLS playlist (RFC 8216 v7) with the session token; every URI in it carries it',
  })
  playlist_url!: string;
  @ApiProperty() from!: string;
  @ApiProperty({ type: String, nullable: true, description: 'null: open session (EVENT playlist)' })
  to!: string | null;
  @ApiProperty({ description: 'seconds of footage the playlist lists (when it opened)' }) duration_s!: number;
  @ApiProperty() segment_count!: number;
  @ApiProperty({ type: [GapDto], description: 'holes over 2 s in the range, with their causes' })
  gaps!: GapDto[];
  @ApiProperty({
    enum: ['fmp4', 'mixed', 'remux'],
    description:
      'which path serves the session: fmp4 = byte ranges of the recorded fragmented MP4 files (no process); remux = cached fragmented copies (one ffmpeg stream copy per file, made once) of files that are not; mixed = both',
  })
  mode!: PlaybackMode;
  @ApiProperty({
    description: 'segments served from a remuxed copy (recorded files that are not fragmented MP4)',
  })
  remuxed_segments!: number;
  @ApiProperty({ description: 'segments left out (holes): neither fragmented MP4 nor remuxable' })
  skipped_segments!: number;
  @ApiProperty({ type: [SkippedSegmentResponse], description: 'why each was left out (the first 100)' })
  skipped!: SkippedSegmentResponse[];
  @ApiProperty({ description: 'the session closes if nothing is requested of it until then (sliding)' })
  expires_at!: string;
}

export class FrameQuery {
  @ApiProperty({ description: 'RFC 3339: the keyframe nearest to this time is answered' })
  @IsISO8601({ strict: true }, { message: 'at must be an RFC 3339 timestamp' })
  at!: string;
}

export class PlaybackFileQuery {
  @ApiPropertyOptional({ description: 'the session token from playlist_url' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  token?: string;
}
