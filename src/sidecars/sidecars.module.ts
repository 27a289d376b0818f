import { SidecarsRepository } from './sidecars.repository';
import { Module } from '@nestjs/common';
import { HeldarModule } from '../common/heldar-module.decorator';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { SidecarProxy, SidecarProxyController } from './sidecar-proxy';
import { ModulesController } from './sidecars.controller';
import { SidecarsService } from './sidecars.service';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { EventsModule } from '../events/events.module';
import { SettingsModule } from '../settings/settings.module';

@HeldarModule({
  id: 'modules',
  name: 'Sidecar modules',
  description: 'Sidecar registration (scoped key, webhook, /m/{id}/ mount), proxy and health',
})
@Module({
  imports: [WebhooksModule, AuditModule, AuthModule, EventsModule, SettingsModule],
  controllers: [ModulesController, SidecarProxyController],
  providers: [SidecarsRepository, SidecarsService, SidecarProxy],
  exports: [SidecarsService],
})
export class SidecarsModule {}
