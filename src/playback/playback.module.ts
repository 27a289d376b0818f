import { Module } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { ExportsModule } from '../exports/exports.module';
import { HeldarModule } from '../settings/heldar-module.decorator';
import { TimelineModule } from '../timeline/timeline.module';
import { PlaybackController } from './playback.controller';
import { PlaybackService } from './playback.service';

@HeldarModule({
  id: 'playback',
  name: 'Playback',
  description: 'HLS playback sessions over the recorded fragmented MP4 files (byte ranges, no remux)',
})
@Module({
  imports: [CamerasModule, TimelineModule, ExportsModule],
  controllers: [PlaybackController],
  providers: [PlaybackService],
  exports: [PlaybackService],
})
export class PlaybackModule {}
