import { Global, Module } from '@nestjs/common';
import { HeldarModule } from '../settings/heldar-module.decorator';
import { EventBus } from './event-bus';
import { EventStreamService } from './event-stream.service';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';

@HeldarModule({
  id: 'events',
  name: 'Events',
  description: 'Event log with a monotonic seq and an in-process bus',
})
@Global()
@Module({
  controllers: [EventsController],
  providers: [EventBus, EventsRepository, EventsService, EventStreamService],
  exports: [EventBus, EventsService],
})
export class EventsModule {}
