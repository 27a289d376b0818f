import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { CreateScheduleDto, ScheduleDto, UpdateScheduleDto } from './dto/schedule.dto';
import { SchedulesService } from './schedules.service';

@ApiTags('recording')
@Controller('api/v1')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @Get('cameras/:id/schedules')
  @RequireCapability('camera:read')
  @ApiOperation({
    summary: 'A camera’s recording schedule windows (used by record_mode scheduled / scheduled_event)',
  })
  @ApiOkResponse({ type: [ScheduleDto] })
  @ApiNotFoundResponse()
  async list(@Principal() p: Principal, @Param('id') id: string): Promise<ScheduleDto[]> {
    return (await this.schedules.list(p, id)).map(ScheduleDto.from);
  }

  @Post('cameras/:id/schedules')
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Add a weekly recording window; the recorder follows it within seconds' })
  @ApiCreatedResponse({ type: ScheduleDto })
  @ApiBadRequestResponse({ description: 'days not 0..6, a time not "HH:MM"' })
  @ApiNotFoundResponse()
  async create(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: CreateScheduleDto,
  ): Promise<ScheduleDto> {
    return ScheduleDto.from(await this.schedules.create(p, id, dto));
  }

  @Patch('schedules/:id')
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Change a recording window (only the fields sent)' })
  @ApiOkResponse({ type: ScheduleDto })
  @ApiBadRequestResponse()
  @ApiNotFoundResponse()
  async update(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateScheduleDto,
  ): Promise<ScheduleDto> {
    return ScheduleDto.from(await this.schedules.update(p, id, dto));
  }

  @Delete('schedules/:id')
  @HttpCode(204)
  @RequireCapability('registry:manage')
  @ApiOperation({ summary: 'Remove a recording window' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async delete(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.schedules.delete(p, id);
  }
}
