import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireCapability } from '../auth/decorators';
import { authorizeMediaPath, resolveUnderRoot, sendMediaFile } from '../auth/media-guard';
import { Principal } from '../auth/principal';
import { ViewAudit } from '../audit/view-audit';
import { NotFoundError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';
import { SegmentFiles } from './segment-files';

/** The raw (still percent-encoded) path after `/media/`, so encoded traversal can be seen and refused. */
function rawMediaPath(req: Request): string {
  const url = req.originalUrl;
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)).replace(/^\/media\//, '');
}

@ApiTags('media')
@Controller('media')
export class MediaController {
  constructor(
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    private readonly views: ViewAudit,
    private readonly files: SegmentFiles,
  ) {}

  @Get('recordings/*path')
  @RequireCapability('video:playback')
  @ApiOperation({ summary: 'A recorded segment (HTTP Range supported); the URL comes from the segments API' })
  @ApiParam({ name: 'path', description: '`<camera>/<file>.mp4`' })
  @ApiProduces('video/mp4')
  @ApiOkResponse({ description: 'the file, or 206 with the requested range' })
  async getRecording(@Principal() p: Principal, @Req() req: Request, @Res() res: Response): Promise<void> {
    const target = authorizeMediaPath(p, rawMediaPath(req));
    const file = await resolveUnderRoot(this.config.recordingsDirAbs, target.relPath).catch(async (err) => {
      // Not on this disk: with per-node storage, maybe on another node's (served through it).
      if (!(err instanceof NotFoundError)) throw err;
      const remote = await this.files.remoteByPath(target.relPath);
      if (!remote || remote.cameraId !== target.cameraId) throw err;
      return remote;
    });
    // One row per viewer and file (a player's byte ranges are one view), on this node only.
    await this.views.record(p, 'view_segment', target.cameraId!, { type: 'recording', id: target.relPath });
    if (typeof file === 'string') await sendMediaFile(res, file);
    else await this.files.proxy(p, file, req, res);
  }
}
