import type { ModuleState } from './entities/module-record.entity';

/**
 * Whether a module's change of state is announced as a `module_state_changed` event.
 * One module's change (`bulk` false) is news unless nothing changed; a record's first write is
 * news only when it is a failure. The kernel's boot, which writes every built-in module at once
 * (`bulk`), is not news, except a module that fails or recovers from a failure. (The shutdown's
 * `stopped` is never announced: the kernel going away is its own signal.)
 */
export function announcesChange(prev: ModuleState | null, next: ModuleState, bulk: boolean): boolean {
  if (prev === next) return false;
  if (bulk) return prev === 'failed' || next === 'failed';
  return prev !== null || next === 'failed';
}

/** A sidecar's lifecycle state from its health probe. */
export function sidecarState(health: 'unknown' | 'healthy' | 'unreachable'): ModuleState {
  return health === 'healthy' ? 'running' : health === 'unreachable' ? 'failed' : 'loaded';
}
