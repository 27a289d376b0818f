import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { isISO8601 } from 'class-validator';

/** A field's fast reading: the value the full pipe would produce, or `undefined` (not sure: decline). */
export type FastField = (raw: string) => unknown;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- DTO classes of any shape
const specs = new Map<Function, Readonly<Record<string, FastField>>>();

/**
 * Declares a fast reading of a query DTO: a query whose every key is one of `fields` and whose
 * every value each field reads is built into the DTO directly; anything else (an unknown key, a
 * repeated key, a value a field declines) goes through the full ValidationPipe, which gives the
 * 400 and its message. So a field only ever accepts what the class-validator rules accept, with
 * the same value; it may decline more (then the full pipe decides).
 */
export function FastQuery(fields: Readonly<Record<string, FastField>>): ClassDecorator {
  return (target) => {
    specs.set(target, fields);
  };
}

/** `@IsISO8601({ strict: true })`: the same check, the string kept. */
export const iso8601Field: FastField = (raw) => (isISO8601(raw, { strict: true }) ? raw : undefined);

/** `@Type(() => Number) @IsInt() @Min(min) @Max(max)`, for plain decimal digits only. */
export const intField =
  (min: number, max: number): FastField =>
  (raw) => {
    if (!/^[0-9]{1,9}$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  };

/** The DTO built from `query` by its fast reading, or `undefined` (no reading, or declined). */
export function readFastQuery(
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- DTO classes of any shape
  metatype: Function | undefined,
  query: unknown,
): object | undefined {
  const fields = metatype && specs.get(metatype);
  if (!fields || typeof query !== 'object' || query === null || Array.isArray(query)) return undefined;
  const dto = new (metatype as new () => Record<string, unknown>)();
  for (const key of Object.keys(query)) {
    if (!Object.hasOwn(fields, key)) return undefined;
    const raw = (query as Record<string, unknown>)[key];
    if (typeof raw !== 'string') return undefined;
    const value = fields[key](raw);
    if (value === undefined) return undefined;
    dto[key] = value;
  }
  return dto;
}

/**
 * The global ValidationPipe, with the fast reading of hot query DTOs first: class-transformer and
 * class-validator cost a request ~0.1 ms for two timestamps; the result and every 400 are the same.
 */
export class FastQueryValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'query') {
      const dto = readFastQuery(metadata.metatype, value);
      if (dto) return dto;
    }
    return super.transform(value, metadata);
  }
}
