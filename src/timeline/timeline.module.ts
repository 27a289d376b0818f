import { Module } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { RecorderModule } from '../recorder/recorder.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { IndexerService } from './indexer.service';
import { EvidenceController } from './evidence.controller';
import { EvidenceService } from './evidence.service';
import { MediaController } from './media.controller';
import { NodeMediaController } from './node-media.controller';
import { SegmentFiles } from './segment-files';
import { TimelineController } from './timeline.controller';
import { TimelineRepository } from './timeline.repository';
import { TimelineService } from './timeline.service';
import { SegmentPruner } from './segment-pruner.service';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { ClusterModule } from '../cluster/cluster.module';

@HeldarModule({ id: 'timeline', name: 'Timeline', description: 'Indexer, segments, gaps with causes' })
@Module({
  imports: [CamerasModule, RecorderModule, AuditModule, EventsModule, ClusterModule],
  controllers: [TimelineController, MediaController, EvidenceController, NodeMediaController],
  providers: [
    TimelineRepository,
    IndexerService,
    TimelineService,
    SegmentPruner,
    EvidenceService,
    SegmentFiles,
  ],
  exports: [TimelineService, IndexerService, SegmentPruner, SegmentFiles],
})
export class TimelineModule {}
