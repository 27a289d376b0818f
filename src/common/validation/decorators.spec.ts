import { plainToInstance } from 'class-transformer';
import { IsString, MaxLength, validateSync } from 'class-validator';
import { NO_CONTROL, OptionalNullable, QueryLimit } from './decorators';

class LimitQuery {
  @QueryLimit(100, 1000)
  limit?: number;
}

class NullableBody {
  @OptionalNullable()
  @IsString()
  @MaxLength(3)
  model?: string | null;
}

function errorsOf<T extends object>(cls: new () => T, plain: object): string[] {
  const dto = plainToInstance(cls, plain);
  return validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }).flatMap((e) =>
    Object.values(e.constraints ?? {}),
  );
}

describe('QueryLimit', () => {
  it.each<[object, string[]]>([
    [{}, []],
    [{ limit: '1' }, []],
    [{ limit: '1000' }, []],
    [{ limit: '0' }, ['limit must not be less than 1']],
    [{ limit: '1001' }, ['limit must not be greater than 1000']],
    [{ limit: '2.5' }, ['limit must be an integer number']],
    [
      { limit: 'ten' },
      [
        'limit must be an integer number',
        'limit must not be greater than 1000',
        'limit must not be less than 1',
      ],
    ],
  ])('%j → %j', (query, expected) => {
    expect(errorsOf(LimitQuery, query).sort()).toEqual([...expected].sort());
  });

  it('converts the query string to a number', () => {
    expect(plainToInstance(LimitQuery, { limit: '42' }).limit).toBe(42);
  });
});

describe('OptionalNullable', () => {
  it.each<[object, string[]]>([
    [{}, []],
    [{ model: null }, []],
    [{ model: 'abc' }, []],
    [{ model: 'abcd' }, ['model must be shorter than or equal to 3 characters']],
    [{ model: 5 }, ['model must be a string', 'model must be shorter than or equal to 3 characters']],
  ])('%j → %j', (body, expected) => {
    expect(errorsOf(NullableBody, body).sort()).toEqual([...expected].sort());
  });
});

describe('NO_CONTROL', () => {
  it.each([
    ['plain text', true],
    ['tabs are\tcontrol', false],
    ['new\nline', false],
    ['del\x7f', false],
    ['', true],
    ['ünïcode ok', true],
  ])('%j → %s', (s, ok) => {
    expect(NO_CONTROL.test(s)).toBe(ok);
  });
});
