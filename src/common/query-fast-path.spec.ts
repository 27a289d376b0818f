import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { SegmentsQueryDto, TimeWindowQueryDto } from '../timeline/dto/timeline.dto';
import { FastQueryValidationPipe, readFastQuery } from './query-fast-path';

// The global pipe's options (src/app.factory.ts), without its error envelope.
const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, transform: true };
const full = new ValidationPipe(OPTIONS);
const fast = new FastQueryValidationPipe(OPTIONS);

const T = '2026-01-02T03:04:05.678Z';
// [dto, query, whether the fast reading takes it]
const CASES: Array<[typeof TimeWindowQueryDto, Record<string, unknown>, boolean]> = [
  [TimeWindowQueryDto, {}, true],
  [TimeWindowQueryDto, { from: T }, true],
  [TimeWindowQueryDto, { from: T, to: '2026-01-02T04:00:00+02:00' }, true],
  [TimeWindowQueryDto, { to: '2026-01-02' }, true],
  [TimeWindowQueryDto, { from: 'yesterday' }, false],
  [TimeWindowQueryDto, { from: '' }, false],
  [TimeWindowQueryDto, { from: '2026-02-30T00:00:00Z' }, false],
  [TimeWindowQueryDto, { from: [T, T] }, false],
  [TimeWindowQueryDto, { from: { a: T } }, false],
  [TimeWindowQueryDto, { from: T, limit: '5' }, false],
  [TimeWindowQueryDto, { constructor: 'x' }, false],
  [SegmentsQueryDto, {}, true],
  [SegmentsQueryDto, { from: T, to: T, limit: '500' }, true],
  [SegmentsQueryDto, { limit: '1' }, true],
  [SegmentsQueryDto, { limit: '5000' }, true],
  [SegmentsQueryDto, { limit: '012' }, true],
  [SegmentsQueryDto, { limit: '0' }, false],
  [SegmentsQueryDto, { limit: '5001' }, false],
  [SegmentsQueryDto, { limit: '-1' }, false],
  [SegmentsQueryDto, { limit: '1e3' }, false],
  [SegmentsQueryDto, { limit: ' 12' }, false],
  [SegmentsQueryDto, { limit: '12.5' }, false],
  [SegmentsQueryDto, { limit: '' }, false],
  [SegmentsQueryDto, { limit: 'ten' }, false],
  [SegmentsQueryDto, { limit: ['1', '2'] }, false],
  [SegmentsQueryDto, { from: T, state: 'x' }, false],
];

const outcome = async (pipe: ValidationPipe, dto: typeof TimeWindowQueryDto, q: Record<string, unknown>) => {
  try {
    return { value: await pipe.transform(structuredClone(q), { type: 'query', metatype: dto }) };
  } catch (err) {
    return { error: (err as { getResponse?: () => unknown }).getResponse?.() ?? String(err) };
  }
};

describe('query DTO fast reading', () => {
  it.each(CASES)(
    '%p %j: taken = %p, and the pipe answers as the full ValidationPipe',
    async (dto, q, taken) => {
      const read = readFastQuery(dto, structuredClone(q));
      expect(read !== undefined).toBe(taken);
      const want = await outcome(full, dto, q);
      const got = await outcome(fast, dto, q);
      expect(got).toEqual(want);
      if (read !== undefined) {
        expect(want.error).toBeUndefined();
        expect(read).toBeInstanceOf(dto);
        expect(read).toStrictEqual(want.value);
      }
    },
  );

  it('reads no DTO without a declared fast reading, and no body or param', () => {
    class Other {}
    expect(readFastQuery(Other, {})).toBeUndefined();
    expect(readFastQuery(undefined, {})).toBeUndefined();
    expect(readFastQuery(TimeWindowQueryDto, null)).toBeUndefined();
  });
});
