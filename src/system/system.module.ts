import { Module } from '@nestjs/common';
import { HeldarModule } from '../common/heldar-module.decorator';
import { CamerasModule } from '../cameras/cameras.module';
import { ClusterModule } from '../cluster/cluster.module';
import { RecorderModule } from '../recorder/recorder.module';
import { RetentionModule } from '../retention/retention.module';
import { TimelineModule } from '../timeline/timeline.module';
import { OverlayModule } from '../overlay/overlay.module';
import { HealthController } from './health.controller';
import { SystemController } from './system.controller';

@HeldarModule({ id: 'system', name: 'System', description: 'Health, readiness and system figures' })
@Module({
  imports: [CamerasModule, ClusterModule, RecorderModule, TimelineModule, RetentionModule, OverlayModule],
  controllers: [HealthController, SystemController],
})
export class SystemModule {}
