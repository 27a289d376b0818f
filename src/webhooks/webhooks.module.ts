import { Module } from '@nestjs/common';
import { HeldarModule } from '../common/heldar-module.decorator';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';

@HeldarModule({
  id: 'webhooks',
  name: 'Webhooks',
  description: 'Standard Webhooks delivery with retries, a ledger and replay',
})
@Module({
  imports: [AuditModule, EventsModule],
  controllers: [WebhooksController],
  providers: [WebhooksRepository, WebhookDispatcher, WebhooksService],
  exports: [WebhooksService],
})
export class WebhooksModule {}
