import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { RegistryNameField, SlugIdField } from './registry-fields';

export class CreateSiteDto {
  @SlugIdField()
  id?: string;

  @RegistryNameField()
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
