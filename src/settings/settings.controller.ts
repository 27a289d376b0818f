import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { FleetOnly, RequireCapability } from '../auth/decorators';
import { SettingsService } from './settings.service';

class ModuleRecordDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() version!: string;
  @ApiProperty({ enum: ['builtin', 'sidecar'] }) kind!: string;
  @ApiProperty({ enum: ['loaded', 'running', 'stopped', 'failed'] }) state!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'why the module is failed (null otherwise)' })
  reason!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'when the module entered its state' })
  since!: string | null;
  @ApiProperty() updated_at!: string;
}

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
