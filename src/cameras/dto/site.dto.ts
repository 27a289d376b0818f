import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class CreateSiteDto {
  @ApiPropertyOptional({ description: 'slug; derived from the name when absent' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  id?: string;

  @ApiProperty({ maxLength: 128 })
  @IsString()
  @MaxLength(128)
  @Matches(/\S/, { message: 'name must not be empty' })
  // eslint-disable-next-line no-control-regex
  @Matches(/^[^\x00-\x1f\x7f]*$/, { message: 'name must not contain control characters' })
  name!: string;

  @ApiPropertyOptional({ default: 'UTC', description: 'IANA time zone, e.g. Europe/Berlin' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;
}

export class UpdateSiteDto extends PartialType(OmitType(CreateSiteDto, ['id'] as const)) {}

export class SiteDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() timezone!: string;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}
