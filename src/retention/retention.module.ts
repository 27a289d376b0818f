import { Module } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { ExportsModule } from '../exports/exports.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { SnapshotsModule } from '../snapshots/snapshots.module';
import { TimelineModule } from '../timeline/timeline.module';
import { RetentionController } from './retention.controller';
import { RetentionService } from './retention.service';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { SettingsModule } from '../settings/settings.module';

@HeldarModule({
  id: 'retention',
  name: 'Retention',
  description: 'Age, quota, cap and free-disk pruning (clips first); row TTLs; orphan reclaim',
})
@Module({
  imports: [
    CamerasModule,
    TimelineModule,
    ExportsModule,
    SnapshotsModule,
    AuditModule,
    EventsModule,
    SettingsModule,
  ],
  controllers: [RetentionController],
  providers: [RetentionService],
  exports: [RetentionService],
})
export class RetentionModule {}
