import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FleetOnly, RequireCapability } from '../auth/decorators';
import { SettingsService } from './settings.service';
import { ModuleRecordDto } from './dto/settings.dto';

@ApiTags('system')
@Controller('api/v1/system')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get('modules')
  @RequireCapability('system:read')
  @FleetOnly()
  @ApiOperation({
    summary: 'Built-in modules and registered sidecars: lifecycle state, why a module failed, since when',
  })
  @ApiOkResponse({ type: [ModuleRecordDto] })
  async getModules(): Promise<ModuleRecordDto[]> {
    return (await this.settings.listModules()).map((m) => ({
      id: m.id,
      name: m.name,
      version: m.version,
      kind: m.kind,
      state: m.state,
      description: m.description,
      reason: m.reason,
      since: m.since,
      updated_at: m.updatedAt,
    }));
  }
}
