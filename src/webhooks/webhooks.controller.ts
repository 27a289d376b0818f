import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FleetOnly, RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  DeliveryQueryDto,
  UpdateWebhookDto,
  WebhookDeliveryDto,
  WebhookDto,
  WebhookTestResultDto,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

/** Webhook subscriptions (manager and admin; fleet-wide, so camera-scoped keys are refused). */
@ApiTags('webhooks')
@Controller('api/v1/webhooks')
@RequireCapability('registry:manage')
@FleetOnly()
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @ApiOperation({ summary: 'List subscriptions (URLs masked)' })
  @ApiOkResponse({ type: [WebhookDto] })
  list(): Promise<WebhookDto[]> {
    return this.webhooks.list();
  }

  @Post()
  @ApiOperation({ summary: 'Subscribe a URL to events; the response carries the signing secret once' })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  create(@Principal() p: Principal, @Body() dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    return this.webhooks.create(p, dto);
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookDto })
  get(@Param('id') id: string): Promise<WebhookDto> {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: WebhookDto })
  update(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateWebhookDto,
  ): Promise<WebhookDto> {
    return this.webhooks.update(p, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a subscription with its deliveries and ledger' })
  delete(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    return this.webhooks.delete(p, id);
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a signed webhook_test message now and report the answer' })
  @ApiOkResponse({ type: WebhookTestResultDto })
  test(@Principal() p: Principal, @Param('id') id: string): Promise<WebhookTestResultDto> {
    return this.webhooks.test(p, id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'Deliveries, newest event first, each with its attempt ledger' })
  @ApiOkResponse({ type: [WebhookDeliveryDto] })
  deliveries(@Param('id') id: string, @Query() q: DeliveryQueryDto): Promise<WebhookDeliveryDto[]> {
    return this.webhooks.deliveries(id, q.status, q.limit ?? 100);
  }

  @Post(':id/deliveries/:delivery_id/replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Queue a delivery again (same webhook-id, fresh retry schedule)' })
  @ApiOkResponse({ type: WebhookDeliveryDto })
  replay(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Param('delivery_id') deliveryId: string,
  ): Promise<WebhookDeliveryDto> {
    return this.webhooks.replay(p, id, deliveryId);
  }
}
