import { Global, Module } from '@nestjs/common';
import { HeldarModule } from '../common/heldar-module.decorator';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';
import { ViewAudit } from './view-audit';

@HeldarModule({ id: 'audit', name: 'Audit log', description: 'Append-only record of every change' })
@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditService, ViewAudit],
  exports: [AuditService, ViewAudit],
})
export class AuditModule {}
