import { Module } from '@nestjs/common';
import { DETECTION_CONSUMERS } from '../ai/detection-consumer';
import { CamerasModule } from '../cameras/cameras.module';
import { SamplerModule } from '../sampler/sampler.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { ZoneDetectionsConsumer } from './zone-detections.consumer';
import { ZoneEvidence } from './zone-evidence';
import { ZonesController } from './zones.controller';
import { ZonesRepository } from './zones.repository';
import { ZonesService } from './zones.service';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';

@HeldarModule({
  id: 'zones',
  name: 'Zones',
  description: 'Zones CRUD and the zone engine (enter, exit, dwell, line crossings, occupancy)',
})
@Module({
  imports: [CamerasModule, SamplerModule, AuditModule, EventsModule],
  controllers: [ZonesController],
  providers: [
    ZonesRepository,
    ZoneEvidence,
    ZoneDetectionsConsumer,
    ZonesService,
    { provide: DETECTION_CONSUMERS, useExisting: ZoneDetectionsConsumer },
  ],
})
export class ZonesModule {}
