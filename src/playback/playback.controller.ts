import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOperation,
  ApiProduces,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import type { Request, Response } from 'express';
import { Public, RequireCapability } from '../auth/decorators';
import { sendMediaFile } from '../auth/media-guard';
import { Principal } from '../auth/principal';
import { BadRequestError } from '../common/errors';
import { GapDto } from '../timeline/dto/timeline.dto';
import {
  PlaybackService,
  type PlaybackMode,
  type PlaybackSessionDto,
  type SkippedSegmentDto,
} from './playback.service';

class PlaybackRequestDto {
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

class SkippedSegmentResponse implements SkippedSegmentDto {
  @ApiProperty() segment_id!: string;
  @ApiProperty() start_time!: string;
  @ApiProperty({ example: 'ffmpeg remux failed (moov atom not found)' }) reason!: string;
}

class PlaybackSessionResponse implements PlaybackSessionDto {
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

class FrameQuery {
  @ApiProperty({ description: 'RFC 3339: the keyframe nearest to this time is answered' })
  @IsISO8601({ strict: true }, { message: 'at must be an RFC 3339 timestamp' })
  at!: string;
}

class PlaybackFileQuery {
  @ApiPropertyOptional({ description: 'the session token from playlist_url' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  token?: string;
}

const SEGMENT_FILE = /^(seg_[A-Za-z0-9_-]{1,64})\.mp4$/;

@ApiTags('playback')
@Controller()
export class PlaybackController {
  constructor(private readonly playback: PlaybackService) {}

  @Post('api/v1/cameras/:id/playback')
  @RequireCapability('video:playback')
  @ApiOperation({
    summary:
      'Open a playback session: one HLS playlist over the recorded files of [from, to] (no re-encoding); without `to` it grows with the recording',
  })
  @ApiCreatedResponse({ type: PlaybackSessionResponse })
  create(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() body: PlaybackRequestDto,
  ): Promise<PlaybackSessionDto> {
    return this.playback.create(p, id, body.from, body.to);
  }

  @Get('api/v1/cameras/:id/playback/frame')
  @RequireCapability('video:playback')
  @ApiOperation({
    summary:
      'Scrubbing thumbnail: the JPEG of the keyframe nearest to `at` (its time in X-Heldar-Frame-Time), cached',
  })
  @ApiProduces('image/jpeg')
  async frame(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Query() q: FrameQuery,
    @Res() res: Response,
  ): Promise<void> {
    const { jpeg, frameAt } = await this.playback.frame(p, id, q.at);
    res.setHeader('Content-Type', 'image/jpeg');
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.setHeader('X-Heldar-Frame-Time', frameAt);
    res.end(jpeg);
  }

  @Delete('api/v1/playback/:id')
  @HttpCode(204)
  @RequireCapability('video:playback')
  @ApiOperation({ summary: 'Close a playback session (its read-locks are released)' })
  @ApiNoContentResponse()
  async delete(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.playback.delete(p, id);
  }

  /** The playlist and the recorded files' bytes; the session token (or a credential) is required. */
  @Get('media/playback/:id/index.m3u8')
  @Public()
  @ApiOperation({ summary: "A playback session's HLS playlist; needs ?token= (or a credential)" })
  @ApiProduces('application/vnd.apple.mpegurl')
  async playlist(
    @Param('id') id: string,
    @Query() q: PlaybackFileQuery,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const s = await this.playback.authorizeMedia(id, req, q.token);
    const text = await this.playback.playlistText(s);
    res.setHeader('Content-Type', 'application/vnd.apple.mpegurl');
    res.setHeader('Cache-Control', 'no-store');
    res.end(text);
  }

  @Get('media/playback/:id/:file')
  @Public()
  @ApiOperation({
    summary: 'Bytes of a recorded file of a playback session (HTTP Range); needs ?token= (or a credential)',
  })
  @ApiProduces('video/mp4')
  async file(
    @Param('id') id: string,
    @Param('file') file: string,
    @Query() q: PlaybackFileQuery,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const m = SEGMENT_FILE.exec(file);
    if (!m) throw new BadRequestError('playback files are <segment id>.mp4', 'PLAYBACK_FILE_INVALID');
    const s = await this.playback.authorizeMedia(id, req, q.token);
    const path = await this.playback.fileOf(s, m[1]);
    res.setHeader('Content-Type', 'video/mp4');
    await sendMediaFile(res, path);
  }
}
