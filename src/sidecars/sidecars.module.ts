import { Module } from '@nestjs/common';
import { HeldarModule } from '../common/heldar-module.decorator';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { SidecarProxy, SidecarProxyController } from './sidecar-proxy';
import { ModulesController } from './sidecars.controller';
import { SidecarsService } from './sidecars.service';

@HeldarModule({
  id: 'modules',
  name: 'Sidecar modules',
  description: 'Sidecar registration (scoped key, webhook, /m/{id}/ mount), proxy and health',
})
@Module({
  imports: [WebhooksModule],
  controllers: [ModulesController, SidecarProxyController],
  providers: [SidecarsService, SidecarProxy],
  exports: [SidecarsService],
})
export class SidecarsModule {}
