import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { Response } from 'express';
import { FleetOnly, RequireCapability } from '../auth/decorators';
import { Telemetry } from '../common/telemetry';

/**
 * `GET /metrics` in the Prometheus text format. The route comes from @willsoto/nestjs-prometheus
 * (its controller, mounted at its configured path); the body is the kernel's own registry rather
 * than prom-client's global one, and the route declares its capability like every other.
 */
@ApiTags('system')
@Controller()
export class MetricsController extends PrometheusController {
  constructor(private readonly telemetry: Telemetry) {
    super();
  }

  @Get()
  @RequireCapability('system:read')
  @FleetOnly()
  @ApiOperation({
    summary: 'Prometheus metrics: cameras, recorders, samplers, ingest, webhooks, sidecars, HTTP, process',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4' })
  override async index(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.setHeader('Content-Type', this.telemetry.registry.contentType);
    res.setHeader('Cache-Control', 'no-store');
    return this.telemetry.registry.metrics();
  }
}
