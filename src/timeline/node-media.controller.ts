import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { NodeOnly } from '../auth/decorators';
import { resolveUnderRoot, sendMediaFile } from '../auth/media-guard';
import { assertCameraScope, hasCapability, Principal } from '../auth/principal';
import { BadRequestError, ForbiddenError, NotFoundError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';
import { SegmentFiles } from './segment-files';

const SEGMENT_ID = /^seg_[A-Za-z0-9_-]{1,64}$/;

/**
 * Node-to-node (cluster, per-node storage): a segment file this node's disk holds, for another node
 * serving a user of its own (HTTP Range). Only a request signed by a node of the cluster gets here
 * (the global guard checks the signature); the principal it acts for must hold video:playback or
 * video:export and see the camera. No audit row: the node the user called writes it.
 */
@ApiExcludeController()
@Controller('internal/v1')
export class NodeMediaController {
  constructor(
    private readonly files: SegmentFiles,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  @Get('segments/:id')
  @NodeOnly()
  async segment(@Principal() p: Principal, @Param('id') id: string, @Res() res: Response): Promise<void> {
    if (!hasCapability(p, 'video:playback') && !hasCapability(p, 'video:export'))
      throw new ForbiddenError('requires capability video:playback or video:export', 'MISSING_CAPABILITY');
    if (!SEGMENT_ID.test(id)) throw new BadRequestError('not a segment id', 'VALIDATION_FAILED');
    const seg = await this.files.byId(id);
    if (seg) assertCameraScope(p, seg.cameraId, 'read its recordings');
    // Only this node's own files: never a hop on to a third node.
    if (!seg || this.files.isRemote(seg))
      throw new NotFoundError('no such segment on this node', 'MEDIA_NOT_FOUND');
    const file = await resolveUnderRoot(this.config.recordingsDirAbs, seg.path);
    await sendMediaFile(res, file);
  }
}
