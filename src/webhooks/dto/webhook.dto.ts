import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { SEVERITIES } from '../../events/event-types';
import { QueryLimit } from '../../common/validation';

const TYPE_PATTERN = /^[a-z0-9_]{1,64}\*?$|^\*$/;

export class CreateWebhookDto {
  @ApiPropertyOptional({ description: 'defaults to the URL host' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(120)
  name?: string;

  @ApiProperty({ example: 'https://example.org/heldar' })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiPropertyOptional({ type: [String], description: 'exact types or `prefix*`; default `["*"]`' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @Matches(TYPE_PATTERN, {
    each: true,
    message: 'each event_types entry must be a type, a prefix ending in *, or *',
  })
  event_types?: string[];

  @ApiPropertyOptional({ enum: SEVERITIES, default: 'info' })
  @IsOptional()
  @IsIn(SEVERITIES)
  min_severity?: string;

  @ApiPropertyOptional({ description: '`whsec_` + base64 of 24–64 bytes; generated when absent' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  secret?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    enum: ['all', 'cameras'],
    description: '`cameras`: only events of `scope_cameras` (camera-less system events are not delivered)',
  })
  @IsOptional()
  @IsIn(['all', 'cameras'])
  scope_kind?: 'all' | 'cameras';

  @ApiPropertyOptional({ type: [String], description: 'the cameras of a `cameras` scope' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1024)
  @IsString({ each: true })
  @Matches(/\S/, { each: true, message: 'scope_cameras must not contain empty ids' })
  @MaxLength(64, { each: true })
  scope_cameras?: string[];
}

/** Any field of a webhook but its secret (only the fields sent change). */
export class UpdateWebhookDto extends PartialType(OmitType(CreateWebhookDto, ['secret'] as const)) {}

export class WebhookDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'userinfo and query masked' }) url!: string;
  @ApiProperty({ type: [String] }) event_types!: string[];
  @ApiProperty() min_severity!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ enum: ['all', 'cameras'] }) scope_kind!: 'all' | 'cameras';
  @ApiProperty({ type: [String], description: 'the cameras of a `cameras` scope' }) scope_cameras!: string[];
  @ApiProperty({ nullable: true, type: String }) module_id!: string | null;
  @ApiProperty() failing!: boolean;
  @ApiProperty() consecutive_failures!: number;
  @ApiProperty({ nullable: true, type: String }) last_success_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) last_failure_at!: string | null;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({ description: 'the signing secret: shown once' }) secret!: string;
}

export class WebhookAttemptDto {
  @ApiProperty() attempt!: number;
  @ApiProperty() ok!: boolean;
  @ApiProperty({ nullable: true, type: Number }) status_code!: number | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty() duration_ms!: number;
  @ApiProperty() at!: string;
}

export class WebhookDeliveryDto {
  @ApiProperty({ description: 'the `webhook-id` header (same on every retry)' }) id!: string;
  @ApiProperty() webhook_id!: string;
  @ApiProperty() event_seq!: number;
  @ApiProperty() event_type!: string;
  @ApiProperty({ enum: ['pending', 'delivering', 'retrying', 'delivered', 'dead'] }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true, type: String }) next_attempt_at!: string | null;
  @ApiProperty({ nullable: true, type: Number }) last_status_code!: number | null;
  @ApiProperty({ nullable: true, type: String }) last_error!: string | null;
  @ApiProperty({ nullable: true, type: String }) delivered_at!: string | null;
  @ApiProperty() created_at!: string;
  @ApiProperty({ type: [WebhookAttemptDto] }) attempt_log!: WebhookAttemptDto[];
}

export class DeliveryQueryDto {
  @ApiPropertyOptional({ enum: ['pending', 'delivering', 'retrying', 'delivered', 'dead'] })
  @IsOptional()
  @IsIn(['pending', 'delivering', 'retrying', 'delivered', 'dead'])
  status?: string;

  @QueryLimit(100, 1000)
  limit?: number;
}

export class WebhookTestResultDto {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ nullable: true, type: Number }) status_code!: number | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty() duration_ms!: number;
  @ApiProperty({ description: 'the webhook-id sent' }) message_id!: string;
}
