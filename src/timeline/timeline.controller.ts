import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { CamerasService } from '../cameras/cameras.service';
import {
  GapsDto,
  RecordingGapDto,
  RecordingGapsQueryDto,
  SegmentDto,
  SegmentsQueryDto,
  TimelineDto,
  TimeWindowQueryDto,
} from './dto/timeline.dto';
import { TimelineService } from './timeline.service';

@ApiTags('timeline')
@Controller('api/v1/cameras/:id')
export class TimelineController {
  constructor(
    private readonly timeline: TimelineService,
    private readonly cameras: CamerasService,
  ) {}

  @Get('segments')
  @RequireCapability('video:playback')
  @ApiOperation({ summary: 'Recorded segments overlapping [from, to] (ascending), or the newest `limit`' })
  @ApiOkResponse({ type: [SegmentDto] })
  @ApiNotFoundResponse()
  async getSegments(@Principal() p: Principal, @Param('id') id: string, @Query() q: SegmentsQueryDto) {
    await this.cameras.assertVisible(p, id, 'read its recordings');
    return this.timeline.listSegments(id, q.from, q.to, q.limit ?? 500);
  }

  @Get('timeline')
  @RequireCapability('video:playback')
  @ApiOperation({ summary: 'Recorded ranges (holes of 2 s or less joined) and recorded seconds' })
  @ApiOkResponse({ type: TimelineDto })
  async getTimeline(@Principal() p: Principal, @Param('id') id: string, @Query() q: TimeWindowQueryDto) {
    await this.cameras.assertVisible(p, id, 'read its recordings');
    return this.timeline.getTimeline(id, q.from, q.to);
  }

  @Get('gaps')
  @RequireCapability('video:playback')
  @ApiOperation({ summary: 'Holes over 2 s in the window, each with its cause' })
  @ApiOkResponse({ type: GapsDto })
  async getGaps(@Principal() p: Principal, @Param('id') id: string, @Query() q: TimeWindowQueryDto) {
    await this.cameras.assertVisible(p, id, 'read its recordings');
    return this.timeline.getGaps(id, q.from, q.to);
  }

  @Get('recording-gaps')
  @RequireCapability('video:playback')
  @ApiOperation({ summary: 'Gaps recorded by the indexer (newest first)' })
  @ApiOkResponse({ type: [RecordingGapDto] })
  async getRecordingGaps(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Query() q: RecordingGapsQueryDto,
  ) {
    await this.cameras.assertVisible(p, id, 'read its recordings');
    return this.timeline.listRecordingGaps(id, q.state, q.limit ?? 500);
  }
}
