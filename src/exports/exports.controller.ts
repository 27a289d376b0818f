import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExcludeController,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { NodeOnly, RequireCapability } from '../auth/decorators';
import { authorizeMediaPath, resolveUnderRoot, sendMediaFile } from '../auth/media-guard';
import { hasCapability, Principal } from '../auth/principal';
import { CamerasService } from '../cameras/cameras.service';
import { ForbiddenError, NotFoundError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';
import { ExportsService } from './exports.service';
import { ViewAudit } from '../audit/view-audit';
import { assertInScope } from '../common/validation';
import { ClipRequestDto, SnapshotQueryDto, ClipsQueryDto, ClipDto, toClipDto } from './dto/clip.dto';

@ApiTags('exports')
@Controller()
export class ExportsController {
  constructor(
    private readonly exportsService: ExportsService,
    private readonly cameras: CamerasService,
    private readonly views: ViewAudit,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  @Post('api/v1/cameras/:id/clip')
  @RequireCapability('video:export')
  @ApiOperation({
    summary: 'Export a clip (stream copy, keyframe-aligned, ≤ 1 h) with its SHA-256',
    description:
      '409 CLIP_QUOTA_EXCEEDED when the clip would take the caller’s clips past HELDAR_CLIPS_MAX_BYTES_PER_PRINCIPAL or all clips past HELDAR_CLIPS_MAX_BYTES',
  })
  @ApiCreatedResponse({ type: ClipDto })
  async clip(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: ClipRequestDto,
  ): Promise<ClipDto> {
    await this.cameras.assertVisible(p, id, 'export from it');
    return toClipDto(await this.exportsService.clip(p, id, dto.from, dto.to));
  }

  @Get('api/v1/cameras/:id/snapshot')
  @RequireCapability('video:playback')
  @ApiOperation({ summary: 'A JPEG: the frame recorded at `at`, or a live grab (sub stream, else main)' })
  @ApiProduces('image/jpeg')
  async snapshot(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Query() q: SnapshotQueryDto,
    @Res() res: Response,
  ): Promise<void> {
    await this.cameras.assertVisible(p, id, 'take a snapshot');
    const jpeg = await this.exportsService.snapshot(id, q.at, p);
    await this.views.record(
      p,
      'view_snapshot',
      id,
      { type: 'camera', id },
      { at: q.at ?? null, live: !q.at },
    );
    res.setHeader('Content-Type', 'image/jpeg');
    res.setHeader('Cache-Control', 'no-store');
    res.end(jpeg);
  }

  @Get('api/v1/clips')
  @RequireCapability('video:export')
  @ApiOkResponse({ type: [ClipDto] })
  async getAll(@Principal() p: Principal, @Query() q: ClipsQueryDto): Promise<ClipDto[]> {
    return (
      await this.exportsService.list(p.cameraScope === 'all' ? null : p.cameraScope, q.limit ?? 100)
    ).map(toClipDto);
  }

  @Get('api/v1/clips/:id')
  @RequireCapability('video:export')
  @ApiOkResponse({ type: ClipDto })
  async get(@Principal() p: Principal, @Param('id') id: string): Promise<ClipDto> {
    return toClipDto(await this.exportsService.get(p, id));
  }

  @Post('api/v1/clips/:id/evidence-lock')
  @HttpCode(200)
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Hold a clip as evidence (never deleted by retention)' })
  @ApiOkResponse({ type: ClipDto })
  async lock(@Principal() p: Principal, @Param('id') id: string): Promise<ClipDto> {
    await this.exportsService.get(p, id);
    return toClipDto(await this.exportsService.setEvidence(p, id, true));
  }

  @Delete('api/v1/clips/:id/evidence-lock')
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Release the evidence hold of a clip' })
  @ApiOkResponse({ type: ClipDto })
  async unlock(@Principal() p: Principal, @Param('id') id: string): Promise<ClipDto> {
    await this.exportsService.get(p, id);
    return toClipDto(await this.exportsService.setEvidence(p, id, false));
  }

  @Get('media/clips/*path')
  @RequireCapability('video:export')
  @ApiOperation({ summary: 'An exported clip file (HTTP Range supported)' })
  async media(@Principal() p: Principal, @Req() req: Request, @Res() res: Response): Promise<void> {
    const raw = req.originalUrl.split('?')[0].replace(/^\/media\//, '');
    const fileName = raw.slice(raw.lastIndexOf('/') + 1);
    const clip = /^clip_[0-9a-f]{32}\.mp4$/.test(fileName)
      ? await this.exportsService.lookupByFile(fileName)
      : null;
    // Same answer for "missing" and "another camera's": no existence oracle.
    assertInScope(p, clip?.cameraId, 'credential is not scoped to the camera of this clip');
    const target = authorizeMediaPath(p, raw, () => clip?.cameraId ?? null);
    if (!clip) throw new NotFoundError('no such media', 'MEDIA_NOT_FOUND');
    // Per-node storage: a clip made on another node is served through that node.
    if (this.exportsService.isRemote(clip)) return this.exportsService.proxyClip(p, clip, req, res);
    const file = await resolveUnderRoot(this.config.clipsDirAbs, target.relPath);
    await sendMediaFile(res, file);
  }
}

/**
 * Node-to-node (cluster, per-node storage): a clip file this node's disk holds, for another node
 * serving a user of its own (HTTP Range). Only a request signed by a node of the cluster gets here;
 * the principal it acts for must hold video:export and see the clip's camera.
 */
@ApiExcludeController()
@Controller('internal/v1')
export class NodeClipsController {
  constructor(
    private readonly exportsService: ExportsService,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  @Get('clips/:id')
  @NodeOnly()
  async clip(@Principal() p: Principal, @Param('id') id: string, @Res() res: Response): Promise<void> {
    if (!hasCapability(p, 'video:export'))
      throw new ForbiddenError('requires capability video:export', 'MISSING_CAPABILITY');
    const clip = await this.exportsService.get(p, id);
    if (this.exportsService.isRemote(clip))
      throw new NotFoundError('no such clip file on this node', 'MEDIA_NOT_FOUND');
    await sendMediaFile(res, await resolveUnderRoot(this.config.clipsDirAbs, clip.file));
  }
}
