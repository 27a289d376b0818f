import { Module } from '@nestjs/common';
import { AiModule } from '../ai/ai.module';
import { CamerasModule } from '../cameras/cameras.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { SamplerController } from './sampler.controller';
import { SamplerService } from './sampler.service';

@HeldarModule({
  id: 'sampler',
  name: 'Frame sampler',
  description: 'One supervised frame sampler per camera and stream profile under a global fps budget',
})
@Module({
  imports: [AiModule, CamerasModule],
  controllers: [SamplerController],
  providers: [SamplerService],
  exports: [SamplerService],
})
export class SamplerModule {}
