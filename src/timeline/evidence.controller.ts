import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { SegmentDto } from './dto/timeline.dto';
import { EvidenceLockDto, IncidentDto } from './dto/evidence.dto';
import { EvidenceService } from './evidence.service';

/** Evidence locks (a durable hold retention never breaks) and the incidents they group into. */
@ApiTags('evidence')
@Controller('api/v1')
export class EvidenceController {
  constructor(private readonly evidence: EvidenceService) {}

  @Post('segments/:id/evidence-lock')
  @HttpCode(200)
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Hold a segment as evidence (never pruned), optionally under an incident' })
  @ApiOkResponse({ type: SegmentDto })
  lock(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: EvidenceLockDto,
  ): Promise<SegmentDto> {
    return this.evidence.setLock(p, id, true, dto.incident_id);
  }

  @Delete('segments/:id/evidence-lock')
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Release the evidence hold (the incident id stays)' })
  @ApiOkResponse({ type: SegmentDto })
  unlock(@Principal() p: Principal, @Param('id') id: string): Promise<SegmentDto> {
    return this.evidence.setLock(p, id, false);
  }

  @Get('incidents')
  @RequireCapability('events:read')
  @ApiOkResponse({ type: [IncidentDto] })
  getIncidents(@Principal() p: Principal): Promise<IncidentDto[]> {
    return this.evidence.listIncidents(p);
  }

  @Get('incidents/:id/segments')
  @RequireCapability('video:playback')
  @ApiOperation({ summary: 'The segments of an incident (filtered to the caller’s cameras)' })
  @ApiOkResponse({ type: [SegmentDto] })
  getIncidentSegments(@Principal() p: Principal, @Param('id') id: string): Promise<SegmentDto[]> {
    return this.evidence.listIncidentSegments(p, id);
  }
}
