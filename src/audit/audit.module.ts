import { AuditRepository } from './audit.repository';
import { Module } from '@nestjs/common';
import { HeldarModule } from '../common/heldar-module.decorator';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';
import { ViewAudit } from './view-audit';
import { EventsModule } from '../events/events.module';

@HeldarModule({ id: 'audit', name: 'Audit log', description: 'Append-only record of every change' })
@Module({
  imports: [EventsModule],
  controllers: [AuditController],
  providers: [AuditRepository, AuditService, ViewAudit],
  exports: [AuditService, ViewAudit],
})
export class AuditModule {}
