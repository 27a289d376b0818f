import { Module } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { SchedulesController } from './schedules.controller';
import { SchedulesRepository } from './schedules.repository';
import { SchedulesService } from './schedules.service';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';

@HeldarModule({
  id: 'schedules',
  name: 'Recording schedules',
  description: 'Weekly recording windows per camera, on the site’s wall clock',
})
@Module({
  imports: [CamerasModule, AuditModule, EventsModule],
  controllers: [SchedulesController],
  providers: [SchedulesRepository, SchedulesService],
  exports: [SchedulesService],
})
export class SchedulesModule {}
