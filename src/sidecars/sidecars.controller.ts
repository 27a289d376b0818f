import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FleetOnly, RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { SettingsService } from '../settings/settings.service';
import { ModuleDto, RegisteredModuleDto, RegisterModuleDto, sidecarDto } from './dto/sidecar.dto';
import { SidecarsService } from './sidecars.service';

@ApiTags('modules')
@Controller('api/v1/modules')
export class ModulesController {
  constructor(
    private readonly modules: SidecarsService,
    private readonly settings: SettingsService,
  ) {}

  @Get()
  @RequireCapability('system:read')
  @FleetOnly()
  @ApiOperation({
    summary: 'Built-in modules (native, lifecycle state) and registered sidecars (health, nav)',
  })
  @ApiOkResponse({ type: [ModuleDto] })
  async list(): Promise<ModuleDto[]> {
    const native: ModuleDto[] = (await this.settings.listModules())
      .filter((m) => m.kind === 'builtin')
      .map((m) => ({
        id: m.id,
        kind: 'native',
        name: m.name,
        version: m.version,
        description: m.description,
        state: m.state,
      }));
    return [...native, ...(await this.modules.list()).map(sidecarDto)];
  }

  @Post()
  @RequireCapability('admin')
  @FleetOnly()
  @ApiOperation({ summary: 'Register a sidecar: mints a scoped API key, a webhook and the /m/{id}/ mount' })
  @ApiCreatedResponse({ type: RegisteredModuleDto })
  async register(@Principal() p: Principal, @Body() dto: RegisterModuleDto): Promise<RegisteredModuleDto> {
    const r = await this.modules.register(p, dto);
    return { ...sidecarDto(r.module), api_key: r.apiKey, webhook_secret: r.webhookSecret };
  }

  @Get(':id')
  @RequireCapability('system:read')
  @FleetOnly()
  @ApiOkResponse({ type: ModuleDto })
  async get(@Param('id') id: string): Promise<ModuleDto> {
    return sidecarDto(await this.modules.get(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireCapability('admin')
  @FleetOnly()
  @ApiOperation({ summary: 'Unregister a sidecar: its key, webhook and mount go in one transaction' })
  unregister(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    return this.modules.unregister(p, id);
  }
}
