import { BadRequestError, ConflictError, type DomainError, UnavailableError } from './errors';

/**
 * Driver errors → domain errors (reference §0): busy/locked or pool timeout → 503 +
 * `Retry-After: 1`, UNIQUE → 409, FK → 400. Anything else stays unknown (→ 500 with a
 * correlation id; the detail is only logged).
 */
export function mapDriverError(err: unknown): DomainError | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown };
  const inner = (e.driverError ?? err) as { code?: unknown; message?: unknown };
  const code = typeof inner.code === 'string' ? inner.code : typeof e.code === 'string' ? e.code : '';
  const message = [inner.message, e.message].find((m): m is string => typeof m === 'string') ?? '';

  // SQLite (better-sqlite3 error codes) ----------------------------------------------------
  if (
    code.startsWith('SQLITE_BUSY') ||
    code.startsWith('SQLITE_LOCKED') ||
    /database is (locked|busy)/i.test(message)
  ) {
    return new UnavailableError('database busy; retry shortly', 'DATABASE_BUSY');
  }
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new ConflictError('resource already exists', 'ALREADY_EXISTS');
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new BadRequestError('referenced resource does not exist', 'REFERENCE_NOT_FOUND');
  }

  // PostgreSQL (SQLSTATE) and node-postgres pool ---------------------------------------------
  if (code === '23505') return new ConflictError('resource already exists', 'ALREADY_EXISTS');
  if (code === '23503')
    return new BadRequestError('referenced resource does not exist', 'REFERENCE_NOT_FOUND');
  if (code === '55P03' || code === '40001' || code === '40P01' || code === '53300' || code === '57P03') {
    return new UnavailableError('database busy; retry shortly', 'DATABASE_BUSY');
  }
  if (
    /timeout exceeded when trying to connect|Connection terminated due to connection timeout/i.test(message)
  ) {
    return new UnavailableError('database busy; retry shortly', 'DATABASE_BUSY');
  }
  if (code === 'ECONNREFUSED' || /Connection terminated unexpectedly/i.test(message)) {
    return new UnavailableError('database unavailable; retry shortly', 'DATABASE_UNAVAILABLE');
  }
  return null;
}
