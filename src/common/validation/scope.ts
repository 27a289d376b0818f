import { ForbiddenError } from '../errors';

/** The part of a caller that camera scope reads (`Principal` is one). */
export interface ScopedCaller {
  cameraScope: 'all' | readonly string[];
}

/**
 * Scope before existence: a camera-scoped caller gets the same 403 `CAMERA_SCOPE` for a thing that
 * does not exist (`cameraId` null or undefined) as for another camera's; unscoped callers pass.
 */
export function assertInScope(p: ScopedCaller, cameraId: string | null | undefined, message: string): void {
  if (p.cameraScope !== 'all' && (cameraId == null || !p.cameraScope.includes(cameraId))) {
    throw new ForbiddenError(message, 'CAMERA_SCOPE');
  }
}

export interface ScopedLookup {
  /** The 403's message (also for a missing row, when the caller is scoped). */
  forbidden: string;
  /** The 404 for a missing row (unscoped callers only). */
  notFound: () => Error;
}

/** A row keyed by camera, checked through the caller's scope before its existence. */
export function assertScoped<T extends { cameraId: string }>(
  p: ScopedCaller,
  row: T | null | undefined,
  lookup: ScopedLookup,
): T {
  assertInScope(p, row?.cameraId, lookup.forbidden);
  if (row == null) throw lookup.notFound();
  return row;
}

/** `assertScoped` over a loader: the row, or the 403 / 404 a scoped / unscoped caller gets. */
export async function loadScoped<T extends { cameraId: string }>(
  p: ScopedCaller,
  load: () => Promise<T | null | undefined>,
  lookup: ScopedLookup,
): Promise<T> {
  return assertScoped(p, await load(), lookup);
}
