import { Module } from '@nestjs/common';
import { DETECTION_CONSUMERS } from '../ai/detection-consumer';
import { CamerasModule } from '../cameras/cameras.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { ZonesController } from './zones.controller';
import { ZonesService } from './zones.service';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';

@HeldarModule({
  id: 'zones',
  name: 'Zones',
  description: 'Zones CRUD and the zone engine (enter, exit, dwell, line crossings, occupancy)',
})
@Module({
  imports: [CamerasModule, AuditModule, EventsModule],
  controllers: [ZonesController],
  providers: [ZonesService, { provide: DETECTION_CONSUMERS, useExisting: ZonesService }],
})
export class ZonesModule {}
