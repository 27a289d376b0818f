import { ApiProperty, ApiPropertyOptional, PartialType, OmitType } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { RECORD_MODES } from '../record-mode';
import { VENDOR_IDS } from '../vendor-templates';
import { NO_CONTROL, OptionalNullable } from '../../common/validation';
import { RegistryNameField, SlugIdField } from './registry-fields';

// No whitespace or control characters anywhere (URLs end up in ffmpeg argv).
/* eslint-disable no-control-regex */
const STREAM_URL = /^(rtsps?|https?):\/\/[^\s\x00-\x1f\x7f]+$/i;
const NO_SPACE = /^[^\s\x00-\x1f\x7f]+$/;
/* eslint-enable no-control-regex */

export class CreateCameraDto {
  @SlugIdField()
  id?: string;

  @RegistryNameField()
  name!: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @OptionalNullable()
  @IsString()
  @MaxLength(64)
  site_id?: string | null;

  @ApiPropertyOptional({ enum: VENDOR_IDS, default: 'generic' })
  @IsOptional()
  @IsIn(VENDOR_IDS, {
    message: `vendor must be one of: ${VENDOR_IDS.join(', ')} (see GET /api/v1/camera-vendors)`,
  })
  vendor?: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @OptionalNullable()
  @IsString()
  @MaxLength(128)
  @Matches(NO_CONTROL, { message: 'model must not contain control characters' })
  model?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'host name or IP of the camera' })
  @OptionalNullable()
  @IsString()
  @MaxLength(255)
  @Matches(NO_SPACE, { message: 'address must not contain whitespace or control characters' })
  address?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: Number,
    description: 'defaults to the vendor port (554; foscam 88)',
  })
  @OptionalNullable()
  @IsInt()
  @Min(1)
  @Max(65535)
  rtsp_port?: number | null;

  @ApiPropertyOptional({ default: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(512)
  channel?: number;

  @ApiPropertyOptional({ nullable: true, type: String })
  @OptionalNullable()
  @IsString()
  @MaxLength(128)
  @Matches(NO_CONTROL, { message: 'username must not contain control characters' })
  username?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'write-only; sealed at rest' })
  @OptionalNullable()
  @IsString()
  @MaxLength(256)
  @Matches(NO_CONTROL, { message: 'password must not contain control characters' })
  password?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'explicit main stream (rtsp/rtsps/http/https)',
  })
  @OptionalNullable()
  @IsString()
  @MaxLength(2048)
  @Matches(STREAM_URL, {
    message: 'main_stream_url must be an rtsp, rtsps, http or https URL without whitespace',
  })
  main_stream_url?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @OptionalNullable()
  @IsString()
  @MaxLength(2048)
  @Matches(STREAM_URL, {
    message: 'sub_stream_url must be an rtsp, rtsps, http or https URL without whitespace',
  })
  sub_stream_url?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'custom URL template with {user} {pass} {host} {port} {channel} {stream}',
  })
  @OptionalNullable()
  @IsString()
  @MaxLength(2048)
  url_template?: string | null;

  @ApiPropertyOptional({ enum: ['main', 'sub'], default: 'main' })
  @IsOptional()
  @IsIn(['main', 'sub'])
  record_stream?: 'main' | 'sub';

  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() record_enabled?: boolean;

  @ApiPropertyOptional({
    enum: RECORD_MODES,
    default: 'continuous',
    description:
      'continuous: always; scheduled: inside the camera’s schedule windows; event: footage kept only around triggers (with pre- and post-roll); scheduled_event: event recording inside the windows',
  })
  @IsOptional()
  @IsIn(RECORD_MODES, { message: `record_mode must be one of: ${RECORD_MODES.join(', ')}` })
  record_mode?: (typeof RECORD_MODES)[number];

  @ApiPropertyOptional({
    default: 10,
    minimum: 0,
    maximum: 300,
    description: 'event modes: seconds kept before a trigger',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(300)
  pre_roll_seconds?: number;

  @ApiPropertyOptional({
    default: 30,
    minimum: 0,
    maximum: 3600,
    description: 'event modes: seconds kept after a trigger',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3600)
  post_roll_seconds?: number;

  @ApiPropertyOptional({ description: 'clamped to 2..3600 (default HELDAR_DEFAULT_SEGMENT_SECONDS)' })
  @IsOptional()
  @IsInt()
  segment_seconds?: number;

  @ApiPropertyOptional({ description: 'clamped to 1..43800 (default HELDAR_DEFAULT_RETENTION_HOURS)' })
  @IsOptional()
  @IsInt()
  retention_hours?: number;

  @ApiPropertyOptional({ nullable: true, type: Number, description: 'per-camera storage quota; null = none' })
  @OptionalNullable()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  storage_quota_bytes?: number | null;

  @ApiPropertyOptional() @IsOptional() @IsBoolean() record_audio?: boolean;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;

  @ApiPropertyOptional({ default: 100, description: 'higher wins when AI budget is short' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10000)
  priority?: number;
}

export class UpdateCameraDto extends PartialType(OmitType(CreateCameraDto, ['id'] as const)) {}

export class CameraDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) site_id!: string | null;
  @ApiProperty({ enum: VENDOR_IDS }) vendor!: string;
  @ApiProperty({ nullable: true, type: String }) model!: string | null;
  @ApiProperty({ nullable: true, type: String }) address!: string | null;
  @ApiProperty({ nullable: true, type: Number }) rtsp_port!: number | null;
  @ApiProperty() channel!: number;
  @ApiProperty({ nullable: true, type: String }) username!: string | null;
  @ApiProperty() has_password!: boolean;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'why a stored credential cannot be opened (copied from another camera, or another secret key): set it again; the sealed fields then read null and the camera does not record',
  })
  credentials_error!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'credentials masked' }) main_stream_url!:
    string | null;
  @ApiProperty({ nullable: true, type: String, description: 'credentials masked' }) sub_stream_url!:
    string | null;
  @ApiProperty({ nullable: true, type: String, description: 'credentials masked' }) url_template!:
    string | null;
  @ApiProperty({ enum: ['main', 'sub'] }) record_stream!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'the URL the recorder pulls, credentials masked',
  })
  record_url_masked!: string | null;
  @ApiProperty() record_enabled!: boolean;
  @ApiProperty({ enum: RECORD_MODES }) record_mode!: string;
  @ApiProperty() pre_roll_seconds!: number;
  @ApiProperty() post_roll_seconds!: number;
  @ApiProperty() segment_seconds!: number;
  @ApiProperty() retention_hours!: number;
  @ApiProperty({ nullable: true, type: Number }) storage_quota_bytes!: number | null;
  @ApiProperty() record_audio!: boolean;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() priority!: number;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

export class CameraTestDto {
  @ApiProperty() reachable!: boolean;
  @ApiPropertyOptional() codec?: string | null;
  @ApiPropertyOptional() width?: number | null;
  @ApiPropertyOptional() height?: number | null;
  @ApiPropertyOptional() fps?: number | null;
  @ApiPropertyOptional() error?: string;
  @ApiProperty({ description: 'the probed URL, credentials masked' }) url!: string;
}

export class CameraVendorDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() default_port!: number;
  @ApiProperty({ nullable: true, type: String }) main_url!: string | null;
  @ApiProperty({ nullable: true, type: String }) sub_url!: string | null;
  @ApiProperty() uses_channel!: boolean;
  @ApiPropertyOptional() notes?: string;
}
