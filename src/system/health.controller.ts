import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/decorators';
import { Database } from '../database/database.service';

@ApiTags('system')
@Controller()
export class HealthController {
  constructor(private readonly db: Database) {}

  @Get('healthz')
  @Public()
  @ApiOkResponse({ description: 'the process is up', schema: { example: { status: 'ok' } } })
  healthz(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Public()
  @ApiOkResponse({ schema: { example: { ready: true } } })
  @ApiServiceUnavailableResponse({ schema: { example: { ready: false, reason: 'database' } } })
  async readyz(@Res({ passthrough: true }) res: Response): Promise<{ ready: boolean; reason?: string }> {
    if (!(await this.db.ping())) {
      res.status(503).setHeader('Retry-After', '5');
      return { ready: false, reason: 'database' };
    }
    return { ready: true };
  }
}
