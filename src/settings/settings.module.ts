import { Module } from '@nestjs/common';
import { HeldarModule } from '../common/heldar-module.decorator';
import { ModuleLifecycleService } from './module-lifecycle.service';
import { SettingsController } from './settings.controller';
import { SettingsRepository } from './settings.repository';
import { SettingsService } from './settings.service';
import { EventsModule } from '../events/events.module';

@HeldarModule({
  id: 'settings',
  name: 'Settings registry',
  description: 'Key/value settings and module records',
})
@Module({
  imports: [EventsModule],
  controllers: [SettingsController],
  providers: [SettingsRepository, SettingsService, ModuleLifecycleService],
  exports: [SettingsService, ModuleLifecycleService],
})
export class SettingsModule {}
