/**
 * A subscription's camera scope, spelled like an API key's (`scope_kind` `all` | `cameras` and
 * `scope_cameras`), stored as one column: null = every camera, else the JSON list of camera ids.
 * A scoped subscription receives only events of its cameras: camera-less (system) events are not
 * delivered to it.
 */
export type CameraScope = readonly string[] | null;

/** A scope as the API shows it. */
export function scopeDto(scope: CameraScope): { scope_kind: 'all' | 'cameras'; scope_cameras: string[] } {
  return scope === null
    ? { scope_kind: 'all', scope_cameras: [] }
    : { scope_kind: 'cameras', scope_cameras: [...scope] };
}

/**
 * The stored scope from the API's fields (`undefined` when neither is given), or why not.
 * As for API keys: `cameras` needs a non-empty list; ids are not checked against the registry (a
 * scope may name a camera registered later); `all` with a list is refused rather than guessed.
 */
export function scopeFromDto(
  kind: 'all' | 'cameras' | undefined,
  cameras: readonly string[] | undefined,
): { scope: CameraScope | undefined } | { problem: string } {
  if (kind === undefined && cameras === undefined) return { scope: undefined };
  const effective = kind ?? 'cameras';
  if (effective === 'all') {
    if (cameras !== undefined && cameras.length > 0)
      return { problem: 'scope_kind "all" takes no scope_cameras' };
    return { scope: null };
  }
  const ids = [...new Set((cameras ?? []).map((c) => c.trim()))];
  if (ids.length === 0 || ids.some((c) => c === ''))
    return { problem: 'scope_kind "cameras" needs a non-empty scope_cameras list' };
  return { scope: ids };
}

/** Is `inner` no wider than `outer` (a principal's scope: `all` or its cameras)? */
export function scopeWithin(inner: CameraScope, outer: 'all' | readonly string[]): boolean {
  if (outer === 'all') return true;
  return inner !== null && inner.every((c) => outer.includes(c));
}

/** Sets built once per stored list (the cached subscription's), so the hot path is one lookup. */
const compiled = new WeakMap<readonly string[], ReadonlySet<string>>();

/** Does a subscription with this scope receive an event of `cameraId` (null: a system event)? */
export function scopeAdmits(scope: CameraScope, cameraId: string | null): boolean {
  if (scope === null) return true;
  if (cameraId === null) return false;
  let set = compiled.get(scope);
  if (!set) {
    set = new Set(scope);
    compiled.set(scope, set);
  }
  return set.has(cameraId);
}
