import { Module } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { SchedulesModule } from '../schedules/schedules.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { RecorderController } from './recorder.controller';
import { RecorderRepository } from './recorder.repository';
import { RecorderService } from './recorder.service';
import { EventsModule } from '../events/events.module';
import { SettingsModule } from '../settings/settings.module';
import { ClusterModule } from '../cluster/cluster.module';

@HeldarModule({ id: 'recorder', name: 'Recorder', description: 'One supervised ffmpeg per recording camera' })
@Module({
  imports: [CamerasModule, SchedulesModule, EventsModule, SettingsModule, ClusterModule],
  controllers: [RecorderController],
  providers: [RecorderRepository, RecorderService],
  exports: [RecorderService],
})
export class RecorderModule {}
