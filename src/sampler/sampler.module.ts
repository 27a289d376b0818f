import { Module } from '@nestjs/common';
import { AiModule } from '../ai/ai.module';
import { CamerasModule } from '../cameras/cameras.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { SamplerController } from './sampler.controller';
import { SamplerService } from './sampler.service';
import { EventsModule } from '../events/events.module';

@HeldarModule({
  id: 'sampler',
  name: 'Frame sampler',
  description: 'One supervised frame sampler per camera and stream profile under a global fps budget',
})
@Module({
  imports: [AiModule, CamerasModule, EventsModule],
  controllers: [SamplerController],
  providers: [SamplerService],
  exports: [SamplerService],
})
export class SamplerModule {}
