import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { CAPABILITIES, ROLES } from '../capabilities';

export class LoginDto {
  @ApiProperty() @IsString() @MaxLength(64) username!: string;
  @ApiProperty() @IsString() @MaxLength(256) password!: string;
}

export class UserDto {
  @ApiProperty() id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty({ nullable: true, type: String }) display_name!: string | null;
  @ApiProperty() active!: boolean;
  @ApiProperty({ description: 'true while the account is locked after failed logins' }) locked!: boolean;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

export class LoginResponseDto {
  @ApiProperty({ description: 'session token (vos_…); also set as the heldar_session cookie' })
  token!: string;
  @ApiProperty() expires_at!: string;
  @ApiProperty({ type: UserDto }) user!: UserDto;
}

export class MeDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) role!: string | null;
  @ApiProperty({ enum: ['user', 'api_key', 'system'] }) kind!: string;
  @ApiProperty({ type: [String] }) capabilities!: string[];
  @ApiProperty({ description: '"all" or the camera ids the credential may touch' }) camera_scope!:
    'all' | string[];
}

export class CreateUserDto {
  @ApiProperty({ description: 'letters, digits, . _ @ -' })
  @IsString()
  @Matches(/^[A-Za-z0-9._@-]{1,64}$/, { message: 'username must be 1-64 letters, digits, . _ @ or -' })
  username!: string;

  @ApiProperty({ minLength: 8 }) @IsString() @MinLength(8) @MaxLength(256) password!: string;
  @ApiPropertyOptional({ enum: ROLES, default: 'viewer' }) @IsOptional() @IsIn(ROLES) role?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) display_name?: string;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() active?: boolean;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ minLength: 8 })
  @IsOptional()
  @IsString()
  @MinLength(8)
  @MaxLength(256)
  password?: string;
  @ApiPropertyOptional({ enum: ROLES }) @IsOptional() @IsIn(ROLES) role?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) display_name?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() active?: boolean;
}

export class CreateApiKeyDto {
  @ApiProperty()
  @IsString()
  @Matches(/\S/, { message: 'name must not be empty' })
  @MaxLength(128)
  name!: string;
  @ApiPropertyOptional({ enum: ROLES, default: 'integration' }) @IsOptional() @IsIn(ROLES) role?: string;

  @ApiPropertyOptional({ enum: CAPABILITIES, isArray: true, description: 'explicit grant (else the role’s)' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'capabilities must not be empty (omit it to use the role)' })
  @ArrayMaxSize(32)
  @IsIn(CAPABILITIES, { each: true, message: `each capability must be one of: ${CAPABILITIES.join(', ')}` })
  capabilities?: string[];

  @ApiPropertyOptional({ enum: ['all', 'cameras'], default: 'all' })
  @IsOptional()
  @IsIn(['all', 'cameras'])
  scope_kind?: 'all' | 'cameras';

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1024)
  @IsString({ each: true })
  @Matches(/\S/, { each: true, message: 'scope_cameras must not contain empty ids' })
  scope_cameras?: string[];

  @ApiPropertyOptional({ description: 'RFC 3339; must be in the future' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expires_at must be an RFC 3339 timestamp' })
  expires_at?: string;

  @ApiPropertyOptional({ description: 'required to grant admin or registry:manage' })
  @IsOptional()
  @IsBoolean()
  confirm_privileged?: boolean;
}

/** A key's grant is changed by the create rules (only the fields sent); its role stays. */
export class UpdateApiKeyDto extends PartialType(
  OmitType(CreateApiKeyDto, ['role', 'capabilities'] as const),
) {
  @ApiPropertyOptional() @IsOptional() @IsBoolean() active?: boolean;

  // Not the create DTO's: omitting capabilities here keeps the key's, it does not fall back to the role.
  @ApiPropertyOptional({ enum: CAPABILITIES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'capabilities must not be empty' })
  @ArrayMaxSize(32)
  @IsIn(CAPABILITIES, { each: true, message: `each capability must be one of: ${CAPABILITIES.join(', ')}` })
  capabilities?: string[];

  @ApiPropertyOptional({ description: 'true revokes the key for good (the row is kept)' })
  @IsOptional()
  @IsIn([true], { message: 'revoked can only be set to true' })
  revoked?: boolean;
}

export class ApiKeyDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'first 12 characters of the key' }) key_prefix!: string;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty({ type: [String], description: 'effective capabilities' }) capabilities!: string[];
  @ApiProperty({ description: 'true when the grant is an explicit list' }) explicit_capabilities!: boolean;
  @ApiProperty({ enum: ['all', 'cameras'] }) scope_kind!: string;
  @ApiProperty({ type: [String] }) scope_cameras!: string[];
  @ApiProperty() active!: boolean;
  @ApiProperty({ nullable: true, type: String }) expires_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) revoked_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) last_used_at!: string | null;
  @ApiProperty() created_at!: string;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'the key (vok_…): shown this once, only its SHA-256 is stored' }) key!: string;
}
