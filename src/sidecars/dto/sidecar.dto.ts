import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { CAPABILITIES } from '../../auth/capabilities';
import { SEVERITIES } from '../../events/event-types';
import type { SidecarEntity } from '../entities/sidecar.entity';

export class NavEntryDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(64) label!: string;
  @ApiProperty({ description: 'path under the module mount, e.g. `/` or `/reports`' })
  @IsString()
  @Matches(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*$/, { message: 'nav path must start with / and be a URL path' })
  @MaxLength(256)
  path!: string;
}

export class RegisterModuleDto {
  @ApiProperty({ description: 'slug [A-Za-z0-9_-], 1–64; the mount is /m/{id}/' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'id must be a slug of [A-Za-z0-9_-], 1 to 64 characters' })
  id!: string;
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(120) name!: string;
  @ApiProperty({ example: 'http://127.0.0.1:9100' }) @IsString() @MaxLength(2048) base_url!: string;
  @ApiPropertyOptional({ enum: ['viewer', 'integration'], default: 'viewer' })
  @IsOptional()
  @IsIn(['viewer', 'integration'], { message: 'role must be viewer or integration' })
  role?: 'viewer' | 'integration';
  @ApiPropertyOptional({ enum: CAPABILITIES, isArray: true, description: 'a subset of the role' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @IsIn(CAPABILITIES, { each: true })
  capabilities?: string[];
  @ApiPropertyOptional({ type: [String], description: 'scope the key to these cameras' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1024)
  @IsString({ each: true })
  camera_ids?: string[];
  @ApiPropertyOptional({ type: [String], description: 'events delivered to <base_url>/heldar/events' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @Matches(/^[a-z0-9_]{1,64}\*?$|^\*$/, {
    each: true,
    message: 'each event_types entry must be a type, a prefix*, or *',
  })
  event_types?: string[];
  @ApiPropertyOptional({ enum: SEVERITIES }) @IsOptional() @IsIn(SEVERITIES) min_severity?: string;
  @ApiPropertyOptional({ type: [NavEntryDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @ValidateNested({ each: true })
  @Type(() => NavEntryDto)
  nav?: NavEntryDto[];
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(32) version?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) description?: string;
}

export class ModuleDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['native', 'sidecar'] }) kind!: 'native' | 'sidecar';
  @ApiProperty() name!: string;
  @ApiProperty() version!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ description: 'native: lifecycle state; sidecar: unknown | healthy | unreachable' })
  state!: string;
  @ApiPropertyOptional({ description: 'sidecar: where /m/{id}/ is mounted' }) mount?: string;
  @ApiPropertyOptional() base_url?: string;
  @ApiPropertyOptional() role?: string;
  @ApiPropertyOptional() api_key_id?: string;
  @ApiPropertyOptional() webhook_id?: string;
  @ApiPropertyOptional({ type: [NavEntryDto] }) nav?: NavEntryDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) health_checked_at?: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) health_error?: string | null;
}

export class RegisteredModuleDto extends ModuleDto {
  @ApiProperty({ description: 'the sidecar’s API key: shown once' }) api_key!: string;
  @ApiProperty({ description: 'the webhook signing secret: shown once' }) webhook_secret!: string;
}

export function sidecarDto(m: SidecarEntity): ModuleDto {
  return {
    id: m.id,
    kind: 'sidecar',
    name: m.name,
    version: m.version,
    description: m.description,
    state: m.health,
    mount: `/m/${m.id}/`,
    base_url: m.baseUrl,
    role: m.role,
    api_key_id: m.apiKeyId,
    webhook_id: m.webhookId,
    nav: m.nav.map((n) => ({ label: n.label, path: `/m/${m.id}${n.path}` })),
    health_checked_at: m.healthCheckedAt,
    health_error: m.healthError,
  };
}
