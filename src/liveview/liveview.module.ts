import { Module } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { HlsPublisherService } from './hls-publisher.service';
import { LiveviewController } from './liveview.controller';
import { LiveviewService } from './liveview.service';
import { MediaMtxClient } from './mediamtx.client';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { EventsModule } from '../events/events.module';

@HeldarModule({
  id: 'liveview',
  name: 'Live view',
  description: 'MediaMTX broker (paths, auth callback, viewer tokens) or the built-in HLS publisher',
})
@Module({
  imports: [CamerasModule, AuditModule, AuthModule, EventsModule],
  controllers: [LiveviewController],
  providers: [LiveviewService, HlsPublisherService, MediaMtxClient],
  exports: [LiveviewService, HlsPublisherService],
})
export class LiveviewModule {}
