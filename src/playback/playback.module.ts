import { Module } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { ExportsModule } from '../exports/exports.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { TimelineModule } from '../timeline/timeline.module';
import { PlaybackController } from './playback.controller';
import { PlaybackService } from './playback.service';
import { RemuxCache } from './remux-cache';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';

@HeldarModule({
  id: 'playback',
  name: 'Playback',
  description:
    'HLS playback sessions over the recorded fragmented MP4 files (byte ranges; a cached remux for files that are not)',
})
@Module({
  imports: [CamerasModule, TimelineModule, ExportsModule, AuditModule, AuthModule],
  controllers: [PlaybackController],
  providers: [PlaybackService, RemuxCache],
  exports: [PlaybackService],
})
export class PlaybackModule {}
