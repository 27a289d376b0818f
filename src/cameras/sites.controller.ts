import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { FleetOnly, RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { CreateSiteDto, SiteDto, UpdateSiteDto } from './dto/site.dto';
import { SitesService } from './sites.service';

@ApiTags('sites')
@Controller('api/v1/sites')
export class SitesController {
  constructor(private readonly sites: SitesService) {}

  @Get()
  @RequireCapability('camera:read')
  @FleetOnly()
  @ApiOkResponse({ type: [SiteDto] })
  getAll(): Promise<SiteDto[]> {
    return this.sites.list();
  }

  @Post()
  @RequireCapability('registry:manage')
  @FleetOnly()
  @ApiCreatedResponse({ type: SiteDto })
  create(@Principal() p: Principal, @Body() dto: CreateSiteDto): Promise<SiteDto> {
    return this.sites.create(p, dto);
  }

  @Get(':id')
  @RequireCapability('camera:read')
  @FleetOnly()
  @ApiOkResponse({ type: SiteDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string): Promise<SiteDto> {
    return this.sites.get(id);
  }

  @Patch(':id')
  @RequireCapability('registry:manage')
  @FleetOnly()
  @ApiOkResponse({ type: SiteDto })
  update(@Principal() p: Principal, @Param('id') id: string, @Body() dto: UpdateSiteDto): Promise<SiteDto> {
    return this.sites.update(p, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireCapability('registry:manage')
  @FleetOnly()
  @ApiNoContentResponse()
  delete(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    return this.sites.delete(p, id);
  }
}
