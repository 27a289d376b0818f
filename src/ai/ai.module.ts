import { AiTasksRepository } from './ai-tasks.repository';
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CamerasModule } from '../cameras/cameras.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { AiController } from './ai.controller';
import { AiRepository } from './ai.repository';
import { AiTasksService } from './ai-tasks.service';
import { FanoutService } from './fanout.service';
import { DetectionsService } from './detections.service';
import { IngestService } from './ingest.service';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';

@HeldarModule({
  id: 'ai',
  name: 'AI ingest',
  description: 'AI tasks, worker discovery, idempotent detection ingest, consumer fan-out and replay',
})
@Module({
  imports: [DiscoveryModule, CamerasModule, AuditModule, EventsModule],
  controllers: [AiController],
  providers: [
    AiRepository,
    AiTasksRepository,
    AiTasksService,
    DetectionsService,
    FanoutService,
    IngestService,
  ],
  exports: [AiTasksService, FanoutService],
})
export class AiModule {}
