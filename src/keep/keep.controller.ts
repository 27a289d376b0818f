import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { KeepService, type TriggerResult } from './keep.service';
import { KeepWindowDto, KeepWindowQuery, RecordTriggerDto, TriggerResultDto } from './dto/keep.dto';

@ApiTags('recording')
@Controller('api/v1/cameras/:id')
export class KeepController {
  constructor(private readonly keep: KeepService) {}

  @Post('record-trigger')
  @HttpCode(200)
  @RequireCapability('ai:ingest')
  @ApiOperation({
    summary:
      'Trigger event recording (a door contact, an alarm panel, a person): keep [now − pre_roll, now + post_roll] of an event camera',
    description:
      'Opens or extends the camera’s keep window (windows only grow). On a camera that does not record on events the trigger is logged (`recording_triggered`) and `window` is null. Needs `ai:ingest` (the integration role has it) and the camera in scope; audited.',
  })
  @ApiOkResponse({ type: TriggerResultDto })
  @ApiBadRequestResponse()
  @ApiNotFoundResponse()
  trigger(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: RecordTriggerDto,
  ): Promise<TriggerResult> {
    return this.keep.triggerByRequest(p, id, dto);
  }

  @Get('keep-windows')
  @RequireCapability('camera:read')
  @ApiOperation({ summary: 'An event camera’s keep windows overlapping [from, to] (why its footage exists)' })
  @ApiOkResponse({ type: [KeepWindowDto] })
  @ApiNotFoundResponse()
  async windows(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Query() q: KeepWindowQuery,
  ): Promise<KeepWindowDto[]> {
    return (await this.keep.windows(p, id, q)).map(KeepWindowDto.from);
  }
}
