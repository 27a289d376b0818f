import { Module } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { TimelineModule } from '../timeline/timeline.module';
import { KeepController } from './keep.controller';
import { KeepRepository } from './keep.repository';
import { KeepService } from './keep.service';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';

@HeldarModule({
  id: 'event-recording',
  name: 'Event recording',
  description:
    'Keep windows opened by triggers; an event camera keeps only the footage they cover (real pre-roll)',
})
@Module({
  imports: [CamerasModule, TimelineModule, AuditModule, EventsModule],
  controllers: [KeepController],
  providers: [KeepRepository, KeepService],
  exports: [KeepService],
})
export class KeepModule {}
