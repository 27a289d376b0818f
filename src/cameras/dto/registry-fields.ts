import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { AsWritten, NO_CONTROL } from '../../common/validation';

/** The id a site or camera may be given at creation: a slug, derived from the name when absent. */
export function SlugIdField(): PropertyDecorator {
  return AsWritten(
    ApiPropertyOptional({ description: 'slug; derived from the name when absent' }),
    IsOptional(),
    IsString(),
    MaxLength(64),
  );
}

/** The name of a site or camera: up to 128 characters, not blank, no control characters. */
export function RegistryNameField(): PropertyDecorator {
  return AsWritten(
    ApiProperty({ maxLength: 128 }),
    IsString(),
    MaxLength(128),
    Matches(/\S/, { message: 'name must not be empty' }),
    Matches(NO_CONTROL, { message: 'name must not contain control characters' }),
  );
}
