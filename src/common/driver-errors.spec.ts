import { BadRequestError, ConflictError, UnavailableError } from './errors';
import { mapDriverError } from './driver-errors';

const driver = (code: string, message = 'x') => ({
  name: 'QueryFailedError',
  message,
  driverError: { code, message },
});

describe('mapDriverError', () => {
  it.each([
    [driver('SQLITE_BUSY', 'database is locked'), UnavailableError],
    [driver('SQLITE_BUSY_SNAPSHOT'), UnavailableError],
    [driver('SQLITE_LOCKED'), UnavailableError],
    [{ message: 'SqliteError: database is locked' }, UnavailableError],
    [driver('SQLITE_CONSTRAINT_UNIQUE'), ConflictError],
    [driver('SQLITE_CONSTRAINT_PRIMARYKEY'), ConflictError],
    [driver('SQLITE_CONSTRAINT_FOREIGNKEY'), BadRequestError],
    [driver('23505'), ConflictError],
    [driver('23503'), BadRequestError],
    [driver('40P01'), UnavailableError],
    [{ message: 'timeout exceeded when trying to connect' }, UnavailableError],
  ])('%j', (err, expected) => {
    expect(mapDriverError(err)).toBeInstanceOf(expected);
  });

  it('busy answers 503 with Retry-After: 1', () => {
    const e = mapDriverError(driver('SQLITE_BUSY'))!;
    expect(e.status).toBe(503);
    expect(e.headers).toEqual({ 'Retry-After': '1' });
    expect(e.message).toBe('database busy; retry shortly');
  });

  it('leaves unknown errors unmapped (→ 500 without internals)', () => {
    expect(mapDriverError(driver('SQLITE_CORRUPT'))).toBeNull();
    expect(mapDriverError(new Error('boom'))).toBeNull();
    expect(mapDriverError(null)).toBeNull();
  });
});
