import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { join } from 'node:path';
import { Public, RequireCapability } from '../auth/decorators';
import { sendMediaFile } from '../auth/media-guard';
import { Principal } from '../auth/principal';
import { BadRequestError, ForbiddenError, NotFoundError, UnavailableError } from '../common/errors';
import { StorageAdapter } from '../media/storage.adapter';
import { HlsPublisherService } from './hls-publisher.service';
import { LiveviewService, type LiveViewDto, type MediaMtxAuthRequest } from './liveview.service';
import { LiveViewResponse, LiveFileQuery } from './dto/liveview.dto';

const PLAYLIST = 'index.m3u8';
const SEGMENT = /^seg_\d{6,9}\.ts$/;
const PLAYLIST_WAIT_MS = 4_000;

/** Appends the viewer token to every URI line of a playlist, so segment fetches carry it too. */
export function tokenizePlaylist(text: string, token: string): string {
  const q = `token=${encodeURIComponent(token)}`;
  return text
    .split('\n')
    .map((line) =>
      line.trim() && !line.startsWith('#') ? `${line.trim()}${line.includes('?') ? '&' : '?'}${q}` : line,
    )
    .join('\n');
}

@ApiTags('live')
@Controller()
export class LiveviewController {
  constructor(
    private readonly live: LiveviewService,
    private readonly hls: HlsPublisherService,
    private readonly storage: StorageAdapter,
  ) {}

  @Get('api/v1/cameras/:id/liveview')
  @RequireCapability('video:live')
  @ApiOperation({
    summary:
      "Live view URLs (HLS; with MediaMTX also WebRTC/WHEP and RTSP) carrying a viewer token — never the camera's URL",
  })
  @ApiOkResponse({ type: LiveViewResponse })
  get(@Principal() p: Principal, @Param('id') id: string, @Req() req: Request): Promise<LiveViewDto> {
    return this.live.liveview(p, id, req.headers.host);
  }

  @Post('api/v1/cameras/:id/liveview')
  @HttpCode(200)
  @RequireCapability('video:live')
  @ApiOperation({ summary: 'Same as GET (for clients that start a stream with POST)' })
  @ApiOkResponse({ type: LiveViewResponse })
  post(@Principal() p: Principal, @Param('id') id: string, @Req() req: Request): Promise<LiveViewDto> {
    return this.live.liveview(p, id, req.headers.host);
  }

  /** The built-in publisher's playlist and segments; the viewer token is the credential. */
  @Get('live/:name/:file')
  @Public()
  @ApiOperation({
    summary: 'Built-in live HLS: the playlist (token appended to its segments) and segments; needs ?token=',
  })
  @ApiProduces('application/vnd.apple.mpegurl', 'video/mp2t')
  async file(
    @Param('name') name: string,
    @Param('file') file: string,
    @Query() q: LiveFileQuery,
    @Res() res: Response,
  ): Promise<void> {
    if (file !== PLAYLIST && !SEGMENT.test(file)) {
      throw new BadRequestError('live files are index.m3u8 and seg_<n>.ts', 'LIVE_FILE_INVALID');
    }
    const cameraId = await this.live.assertFileAccess(name, q.token);
    if (!this.hls.touch(cameraId)) {
      throw new NotFoundError(
        `no live stream runs for camera \`${cameraId}\`: request /api/v1/cameras/${cameraId}/liveview first`,
        'LIVE_NOT_RUNNING',
      );
    }
    const path = join(this.hls.dirOf(cameraId), file);
    if (file === PLAYLIST) {
      const deadline = Date.now() + PLAYLIST_WAIT_MS;
      while (!(await this.storage.stat(path)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      const text = await this.storage.read(path).catch(() => null);
      if (!text) throw new UnavailableError('the live stream is starting', 'LIVE_NOT_READY', 1);
      res.setHeader('Content-Type', 'application/vnd.apple.mpegurl');
      res.setHeader('Cache-Control', 'no-store');
      res.end(tokenizePlaylist(text.toString('utf8'), q.token!));
      return;
    }
    if (!(await this.storage.stat(path)))
      throw new NotFoundError('that live segment is gone', 'LIVE_SEGMENT_GONE');
    res.setHeader('Content-Type', 'video/mp2t');
    await sendMediaFile(res, path);
  }

  /**
   * MediaMTX's `authMethod: http` callback: 200 allows, 403 denies (MediaMTX denies on any non-2xx).
   * Public by nature: the answer is only allow or deny, and it is computed from the token.
   */
  @Post('internal/mediamtx-auth')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: 'MediaMTX auth callback (authMethod: http): 200 allow, 403 deny' })
  async mediamtxAuth(@Body() body: MediaMtxAuthRequest): Promise<{ allow: true }> {
    const ok = await this.live.authorize(body && typeof body === 'object' ? body : {});
    if (!ok) throw new ForbiddenError('denied', 'LIVE_DENIED');
    return { allow: true };
  }
}
