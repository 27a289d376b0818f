import { Module } from '@nestjs/common';
import { HeldarModule } from '../settings/heldar-module.decorator';
import { HealthController } from './health.controller';

@HeldarModule({ id: 'system', name: 'System', description: 'Health and readiness' })
@Module({ controllers: [HealthController] })
export class SystemModule {}
