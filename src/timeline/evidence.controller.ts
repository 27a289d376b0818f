import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService } from '../audit/audit.service';
import { RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { NotFoundError } from '../common/errors';
import { SegmentDto } from './dto/timeline.dto';
import type { SegmentEntity } from './entities/segment.entity';
import { toSegmentDto } from './timeline.service';
import { TimelineRepository } from './timeline.repository';
import { loadScoped } from '../common/validation';
import { EvidenceLockDto, IncidentDto } from './dto/evidence.dto';

const scopeOf = (p: Principal) => (p.cameraScope === 'all' ? null : p.cameraScope);

/** Evidence locks (a durable hold retention never breaks) and the incidents they group into. */
@ApiTags('evidence')
@Controller('api/v1')
export class EvidenceController {
  constructor(
    private readonly repo: TimelineRepository,
    private readonly audit: AuditService,
  ) {}

  /** The segment, resolved through its camera's scope: for a scoped caller "missing" and "another
   * camera's" are the same 403. */
  private async load(p: Principal, id: string): Promise<SegmentEntity> {
    return loadScoped(p, () => this.repo.getSegment(id), {
      forbidden: `credential is not scoped to the camera of segment \`${id}\``,
      notFound: () => new NotFoundError(`segment \`${id}\` not found`, 'SEGMENT_NOT_FOUND'),
    });
  }

  @Post('segments/:id/evidence-lock')
  @HttpCode(200)
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Hold a segment as evidence (never pruned), optionally under an incident' })
  @ApiOkResponse({ type: SegmentDto })
  async lock(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: EvidenceLockDto,
  ): Promise<SegmentDto> {
    const seg = await this.load(p, id);
    await this.repo.transaction(async () => {
      await this.repo.setEvidence(id, true, dto.incident_id);
      await this.audit.record(p, 'evidence_lock', 'segment', id, {
        camera_id: seg.cameraId,
        incident_id: dto.incident_id ?? null,
      });
    });
    return toSegmentDto((await this.repo.getSegment(id))!);
  }

  @Delete('segments/:id/evidence-lock')
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Release the evidence hold (the incident id stays)' })
  @ApiOkResponse({ type: SegmentDto })
  async unlock(@Principal() p: Principal, @Param('id') id: string): Promise<SegmentDto> {
    const seg = await this.load(p, id);
    await this.repo.transaction(async () => {
      await this.repo.setEvidence(id, false);
      await this.audit.record(p, 'evidence_unlock', 'segment', id, { camera_id: seg.cameraId });
    });
    return toSegmentDto((await this.repo.getSegment(id))!);
  }

  @Get('incidents')
  @RequireCapability('events:read')
  @ApiOkResponse({ type: [IncidentDto] })
  getIncidents(@Principal() p: Principal): Promise<IncidentDto[]> {
    return this.repo.incidents(scopeOf(p));
  }

  @Get('incidents/:id/segments')
  @RequireCapability('video:playback')
  @ApiOperation({ summary: 'The segments of an incident (filtered to the caller’s cameras)' })
  @ApiOkResponse({ type: [SegmentDto] })
  async getIncidentSegments(@Principal() p: Principal, @Param('id') id: string): Promise<SegmentDto[]> {
    return (await this.repo.incidentSegments(id, scopeOf(p))).map(toSegmentDto);
  }
}
