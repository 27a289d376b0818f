import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public, RequireCapability } from '../auth/decorators';
import { sendMediaFile } from '../auth/media-guard';
import { Principal } from '../auth/principal';
import { BadRequestError } from '../common/errors';
import { PlaybackService, type PlaybackSessionDto } from './playback.service';
import {
  PlaybackRequestDto,
  PlaybackSessionResponse,
  FrameQuery,
  PlaybackFileQuery,
} from './dto/playback.dto';

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
