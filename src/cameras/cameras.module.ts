import { Module } from '@nestjs/common';
import { HeldarModule } from '../common/heldar-module.decorator';
import { CameraDeletionChecks } from './camera-deletion-checks';
import { CameraDeletionHooks } from './camera-deletion-hooks';
import { CamerasController } from './cameras.controller';
import { CamerasRepository } from './cameras.repository';
import { CamerasService } from './cameras.service';
import { SitesController } from './sites.controller';
import { SitesService } from './sites.service';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';

@HeldarModule({
  id: 'cameras',
  name: 'Cameras',
  description: 'Sites, cameras, vendor URL templates, test probe',
})
@Module({
  imports: [AuditModule, EventsModule],
  controllers: [CamerasController, SitesController],
  providers: [CamerasRepository, CamerasService, SitesService, CameraDeletionChecks, CameraDeletionHooks],
  exports: [CamerasService, CameraDeletionChecks, CameraDeletionHooks],
})
export class CamerasModule {}
