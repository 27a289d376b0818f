import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidateIf } from 'class-validator';

/**
 * Decorators composed in the order they are written above a member: TypeScript applies the lowest
 * first, `applyDecorators` its first argument first. A stack moved into one decorator this way
 * registers its metadata (validation order, OpenAPI) exactly as the written stack did.
 */
export function AsWritten(
  ...decorators: Array<ClassDecorator | MethodDecorator | PropertyDecorator>
): ReturnType<typeof applyDecorators> {
  return applyDecorators(...[...decorators].reverse());
}

/** No control characters (C0 and DEL) anywhere; whitespace is allowed. */
// eslint-disable-next-line no-control-regex
export const NO_CONTROL = /^[^\x00-\x1f\x7f]*$/;

/**
 * The `limit` of a list query: optional, an integer from 1 to `max` (a query string is
 * converted), documented with the `default` the service applies when it is absent.
 */
export function QueryLimit(defaultLimit: number, max: number): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ default: defaultLimit, minimum: 1, maximum: max }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(max),
  );
}

/**
 * A field that may be absent (unchanged) or `null` (cleared): the validators that follow apply
 * only to a value. Put the `@ApiProperty…({ nullable: true })` documentation next to it.
 */
export function OptionalNullable(): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    ValidateIf((_, v) => v !== null),
  );
}
