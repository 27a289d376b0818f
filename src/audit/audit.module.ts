import { Global, Module } from '@nestjs/common';
import { HeldarModule } from '../settings/heldar-module.decorator';
import { AuditService } from './audit.service';

@HeldarModule({ id: 'audit', name: 'Audit log', description: 'Append-only record of every change' })
@Global()
@Module({ providers: [AuditService], exports: [AuditService] })
export class AuditModule {}
