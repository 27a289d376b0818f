import { Module } from '@nestjs/common';
import { HeldarModule } from '../common/heldar-module.decorator';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { ModuleProxy, ModuleProxyController } from './module-proxy';
import { ModulesController } from './modules.controller';
import { ModulesService } from './modules.service';

@HeldarModule({
  id: 'modules',
  name: 'Sidecar modules',
  description: 'Sidecar registration (scoped key, webhook, /m/{id}/ mount), proxy and health',
})
@Module({
  imports: [WebhooksModule],
  controllers: [ModulesController, ModuleProxyController],
  providers: [ModulesService, ModuleProxy],
  exports: [ModulesService],
})
export class ModulesModule {}
