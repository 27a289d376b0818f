import { Body, Controller, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FleetOnly, RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { RetentionService, type SweepReport } from './retention.service';
import { SweepQueryDto, UpdateRetentionDto, RetentionDto } from './dto/retention.dto';

@ApiTags('system')
@Controller('api/v1/system/retention')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Get()
  @RequireCapability('system:read')
  @ApiOperation({ summary: 'Effective retention limits, usage, the forecast and the last sweep' })
  @ApiOkResponse({ type: RetentionDto })
  async get(@Principal() p: Principal): Promise<RetentionDto> {
    return this.retention.describe(p);
  }

  @Put()
  @RequireCapability('admin')
  @FleetOnly()
  @ApiOperation({
    summary: 'Override the recordings cap and/or the free-disk floor (null clears an override)',
  })
  @ApiOkResponse({ type: RetentionDto })
  async put(@Principal() p: Principal, @Body() dto: UpdateRetentionDto): Promise<RetentionDto> {
    return this.retention.updateLimits(p, dto);
  }

  @Post('sweep')
  @HttpCode(200)
  @RequireCapability('admin')
  @FleetOnly()
  @ApiOperation({
    summary: 'Run a retention sweep now (with orphans=true, the orphan reclaim too) and report what it did',
  })
  @ApiOkResponse({ type: Object })
  async sweep(@Principal() p: Principal, @Query() q: SweepQueryDto): Promise<SweepReport> {
    return this.retention.sweepByRequest(p, q.orphans === 'true');
  }
}
