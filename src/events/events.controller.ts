import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireCapability } from '../auth/decorators';
import { Principal, assertCameraScope } from '../auth/principal';
import { BadRequestError } from '../common/errors';
import { EventDto, EventQueryDto, EventStreamQueryDto, EventTypeDto } from './dto/event.dto';
import { EventStreamService, SSE_HEARTBEAT_MS } from './event-stream.service';
import { EventsService } from './events.service';

@ApiTags('events')
@Controller('api/v1/events')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly stream: EventStreamService,
  ) {}

  @Get()
  @RequireCapability('events:read')
  @ApiOperation({ summary: 'List events (newest first, or ascending after `since_seq`)' })
  @ApiOkResponse({ type: [EventDto] })
  async getAll(@Query() q: EventQueryDto, @Principal() principal: Principal): Promise<EventDto[]> {
    if (q.camera_id) assertCameraScope(principal, q.camera_id, 'read its events');
    const rows = await this.events.list({
      cameraId: q.camera_id,
      eventType: q.event_type,
      minSeverity: q.severity,
      sinceSeq: q.since_seq,
      limit: q.limit ?? 200,
      // In the query, not after it: a page of someone else's events must not come back empty.
      cameraIds: principal.cameraScope === 'all' ? undefined : principal.cameraScope,
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
    return this.events.listTypes();
  }

  @Get('stream')
  @RequireCapability('events:read')
  @ApiOperation({
    summary: 'Server-Sent Events of kernel events, live; with `Last-Event-ID` the missed ones first',
    description:
      'Each message is `id: <seq>`, `event: <event_type>`, `data: <event JSON>`. With `Last-Event-ID` ' +
      '(or `since_seq`) every matching event after that seq is replayed, then the stream goes live ' +
      `with no gap and no duplicate. A \`: ping\` comment every ${SSE_HEARTBEAT_MS / 1000} s; a client ` +
      'that stops reading is disconnected and should resume with `Last-Event-ID`.',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'resume after this seq' })
  @ApiOkResponse({
    description: 'An event stream; each `data` is an `EventDto`',
    content: {
      'text/event-stream': {
        schema: { type: 'string', example: 'id: 42\nevent: camera_created\ndata: {"seq":42,…}\n\n' },
      },
    },
  })
  streamEvents(
    @Query() q: EventStreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Principal() principal: Principal,
    @Res() res: Response,
  ): void {
    if (q.camera_id) assertCameraScope(principal, q.camera_id, 'read its events');
    let since = q.since_seq;
    // An empty header is "no event yet" (the SSE spec sends none then; some clients send it empty).
    if (lastEventId !== undefined && lastEventId.trim() !== '') {
      if (!/^\d{1,15}$/.test(lastEventId.trim())) {
        throw new BadRequestError(
          'Last-Event-ID must be an event seq (a non-negative integer)',
          'VALIDATION_FAILED',
        );
      }
      since = Number(lastEventId.trim()); // the client's own cursor wins over the URL's
    }
    this.stream.open(
      res,
      {
        cameraId: q.camera_id,
        eventType: q.event_type,
        minSeverity: q.min_severity,
        scope: principal.cameraScope,
      },
      since,
    );
  }
}
