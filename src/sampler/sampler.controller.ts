import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireCapability } from '../auth/decorators';
import { canSeeCamera, Principal } from '../auth/principal';
import { NotFoundError } from '../common/errors';
import { type SamplerInfo, SamplerService } from './sampler.service';
import { FrameQuery, SamplerDto } from './dto/sampler.dto';

@ApiTags('ai')
@Controller('api/v1')
export class SamplerController {
  constructor(private readonly samplers: SamplerService) {}

  @Get('ai/samplers')
  @RequireCapability('ai:tasks')
  @ApiOperation({ summary: 'Frame samplers: state and the fps/width each was granted by the global budget' })
  @ApiOkResponse({ type: [SamplerDto] })
  list(@Principal() p: Principal): SamplerInfo[] {
    return this.samplers.list().filter((s) => canSeeCamera(p, s.camera_id));
  }

  @Get('cameras/:id/frame')
  @RequireCapability('ai:frames')
  @ApiOperation({ summary: 'The latest sampled frame (JPEG, no-store) with its age and capture time' })
  @ApiProduces('image/jpeg')
  async frame(@Param('id') id: string, @Query() q: FrameQuery, @Res() res: Response): Promise<void> {
    const profile = q.profile ?? 'sub';
    const frame = await this.samplers.latestFrame(id, profile);
    if (!frame) {
      const s = this.samplers.list().find((x) => x.camera_id === id && x.stream_profile === profile);
      throw new NotFoundError(
        s
          ? `no frame yet for camera \`${id}\` (${profile}); its sampler is ${s.state}${s.last_error ? `: ${s.last_error}` : ''}`
          : `no AI task samples camera \`${id}\` (${profile} stream); create one with POST /api/v1/cameras/${id}/ai-tasks`,
        'NO_FRAME',
      );
    }
    res.set({
      'content-type': 'image/jpeg',
      'cache-control': 'no-store',
      'x-frame-age-ms': String(Math.round(frame.ageMs)),
      'x-frame-captured-at': frame.capturedAt.toISOString(),
    });
    res.send(frame.data);
  }
}
