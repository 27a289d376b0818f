import { Body, Controller, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Principal } from '../auth/principal';
import { CameraRowRoute } from '../cameras/camera-rows.routes';
import { CreateScheduleDto, ScheduleDto, UpdateScheduleDto } from './dto/schedule.dto';
import { SchedulesService } from './schedules.service';

@ApiTags('recording')
@Controller('api/v1')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @CameraRowRoute.list(
    'cameras/:id/schedules',
    'A camera’s recording schedule windows (used by record_mode scheduled / scheduled_event)',
    ScheduleDto,
  )
  async list(@Principal() p: Principal, @Param('id') id: string): Promise<ScheduleDto[]> {
    return (await this.schedules.list(p, id)).map(ScheduleDto.from);
  }

  @CameraRowRoute.create(
    'cameras/:id/schedules',
    'Add a weekly recording window; the recorder follows it within seconds',
    ScheduleDto,
    'days not 0..6, a time not "HH:MM"',
  )
  async create(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: CreateScheduleDto,
  ): Promise<ScheduleDto> {
    return ScheduleDto.from(await this.schedules.create(p, id, dto));
  }

  @CameraRowRoute.update('schedules/:id', 'Change a recording window (only the fields sent)', ScheduleDto)
  async update(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateScheduleDto,
  ): Promise<ScheduleDto> {
    return ScheduleDto.from(await this.schedules.update(p, id, dto));
  }

  @CameraRowRoute.delete('schedules/:id', 'Remove a recording window')
  async delete(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.schedules.delete(p, id);
  }
}
