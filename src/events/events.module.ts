import { Module } from '@nestjs/common';
import { HeldarModule } from '../common/heldar-module.decorator';
import { CacheInvalidation } from './cache-invalidation';
import { EventBus } from './event-bus';
import { EventHorizon } from './event-horizon';
import { EventRelay } from './event-relay';
import { EventStreamService } from './event-stream.service';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';

@HeldarModule({
  id: 'events',
  name: 'Events',
  description: 'Event log with a monotonic seq and an in-process bus',
})
@Module({
  controllers: [EventsController],
  providers: [
    CacheInvalidation,
    EventBus,
    EventHorizon,
    EventRelay,
    EventsRepository,
    EventsService,
    EventStreamService,
  ],
  exports: [CacheInvalidation, EventBus, EventHorizon, EventsService],
})
export class EventsModule {}
