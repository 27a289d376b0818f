import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/decorators';
import { Principal, assertCameraScope } from '../auth/principal';
import { EventDto, EventQueryDto, EventTypeDto } from './dto/event.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@Controller('api/v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @RequireCapability('events:read')
  @ApiOperation({ summary: 'List events (newest first, or ascending after `since_seq`)' })
  @ApiOkResponse({ type: [EventDto] })
  async getAll(@Query() q: EventQueryDto, @Principal() principal: Principal): Promise<EventDto[]> {
    if (q.camera_id) assertCameraScope(principal, q.camera_id, 'read its events');
    const rows = await this.events.getAll({
      cameraId: q.camera_id,
      eventType: q.event_type,
      minSeverity: q.severity,
      sinceSeq: q.since_seq,
      limit: q.limit ?? 200,
    });
    const visible =
      principal.cameraScope === 'all'
        ? rows
        : rows.filter((e) => e.cameraId !== null && principal.cameraScope.includes(e.cameraId));
    return visible.map((e) => EventDto.from(e));
  }

  @Get('types')
  @RequireCapability('events:read')
  @ApiOperation({ summary: 'Known kernel event types and any other type seen' })
  @ApiOkResponse({ type: [EventTypeDto] })
  async getTypes(): Promise<EventTypeDto[]> {
    return this.events.getTypes();
  }
}
