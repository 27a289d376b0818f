export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: string): number {
  const i = (SEVERITIES as readonly string[]).indexOf(s);
  return i === -1 ? 0 : i;
}

/** A registry entry: what the type means, and (types only) the payload it carries. */
export interface EventTypeDef<P extends object> {
  readonly description: string;
  /** Never set: carries the payload type for `KernelEventPayloads`. */
  readonly payload?: P;
}

/** An entry of the registry with its payload type. */
function def<P extends object = Record<string, never>>(description: string): EventTypeDef<P> {
  return { description };
}

type Nullable<T> = T | null;
/** A recorder's ffmpeg exit (camera_offline, storage_error). */
interface RecorderExitPayload {
  ran_seconds: number;
  exit_code: Nullable<number>;
  restart_in_seconds: Nullable<number>;
  detail: Nullable<string>;
}
/** A zone event (zone_enter, zone_exit, zone_dwell, zone_cross_ab, zone_cross_ba). */
export interface ZoneEventPayload {
  zone_event_id: string;
  zone_id: string;
  zone: string;
  track_id: string;
  label: string;
  dwell_seconds: Nullable<number>;
  evidence: Nullable<string>;
}
interface ModuleHealthPayload {
  module_id: string;
  name: string;
  error: Nullable<string>;
}

/**
 * Kernel-emitted event types (reference Appendix A): what each means and the payload it carries.
 * The single source: `KernelEventType`, `KernelEventPayloads`, `KERNEL_EVENT_TYPES` (the
 * descriptions served by GET /events/types and the docs) and the reserved prefixes derive from it.
 */
export const KERNEL_EVENT_REGISTRY = {
  camera_created: def<{ name: string }>('A camera was registered'),
  camera_updated: def<{ fields: string[] }>('A camera was changed'),
  camera_deleted: def('A camera was removed'),
  camera_offline: def<RecorderExitPayload>('A recorder lost its camera (the ffmpeg child exited)'),
  recorder_error: def<
    | { reason: 'credentials_unreadable' | 'no_url'; detail: string }
    | { reason: 'stale'; threshold_seconds: number; last_segment_age_s: number }
  >('A recorder cannot run (no URL, stale output, spawn failure)'),
  recording_gap: def<{ gap_seconds: number; prev_end: string; next_start: string; cause: string }>(
    'A hole in the recorded timeline, with its cause',
  ),
  recording_started: def<
    | { reason: 'schedule'; mode: string }
    | { reason: 'trigger'; trigger: string; window_start: string; window_end: string }
  >(
    'A camera started recording because of its mode (payload.reason: schedule — its window opened; trigger — an event camera’s keep window opened)',
  ),
  recording_stopped: def<{ reason: 'schedule' } | { reason: 'window_end'; window_end: string }>(
    'A camera stopped recording because of its mode (payload.reason: schedule — its window closed; window_end — an event camera’s keep window ended)',
  ),
  recording_triggered: def<{
    reason: string;
    mode: string;
    window_start: Nullable<string>;
    window_end: Nullable<string>;
  }>('A recording trigger arrived through the API (payload: reason, mode, the keep window or null)'),
  ai_tasks_changed: def('AI tasks of a camera were created, changed or removed'),
  sampler_offline: def<{ profile: string; detail: Nullable<string>; restart_in_seconds: Nullable<number> }>(
    'An AI frame sampler exited',
  ),
  retention_delete: def<{
    reason: string;
    deleted: number;
    bytes: number;
    cameras: Record<string, { deleted: number; bytes: number }>;
  }>('Recordings were pruned by retention'),
  disk_pressure: def<{ reason: string; [detail: string]: unknown }>(
    'Storage is short (quota, cap or free-disk floor)',
  ),
  recording_orphans: def<{ reclaimed: number; bytes: number }>(
    'Recording files no segment knows were reclaimed',
  ),
  storage_error: def<RecorderExitPayload>('The recordings directory cannot be written'),
  zone_enter: def<ZoneEventPayload>('A tracked object entered a zone'),
  zone_exit: def<ZoneEventPayload>('A tracked object left a zone'),
  zone_dwell: def<ZoneEventPayload>('A tracked object stayed in a zone longer than its dwell time'),
  zone_cross_ab: def<ZoneEventPayload>('A tracked object crossed a line from A to B'),
  zone_cross_ba: def<ZoneEventPayload>('A tracked object crossed a line from B to A'),
  webhook_failing: def<{
    webhook_id: string;
    name: string;
    consecutive_failures: number;
    last_error: Nullable<string>;
  }>('A webhook subscription keeps failing'),
  module_unreachable: def<ModuleHealthPayload>('A sidecar module stopped answering its health probe'),
  module_recovered: def<ModuleHealthPayload>('A sidecar module answers its health probe again'),
  module_state_changed: def<{
    module_id: string;
    kind: string;
    name: string;
    state: string;
    previous_state: Nullable<string>;
    reason: Nullable<string>;
    since: Nullable<string>;
  }>('A module (built-in or sidecar) changed lifecycle state: running, failed (with the reason), stopped …'),
  webhook_recovered: def<{ webhook_id: string; name: string }>(
    'A failing webhook subscription delivers again',
  ),
  webhook_test: def('A test delivery (POST /webhooks/{id}/test; sent, never stored)'),
  zone_static_suppressed: def<{ zone_id: string; zone: string; track_id: string; label: string }>(
    'A tracked object stood still in a zone and is no longer reported',
  ),
  audit_head: def<{ seq: number; hash: string; reason: 'rows' | 'daily' }>(
    "The audit chain's newest row (seq and keyed hash), every HELDAR_AUDIT_HEAD_EVERY rows and daily: pin it outside the kernel",
  ),
} satisfies Record<string, EventTypeDef<object>>;

/** Every type the kernel emits (an unknown one does not compile in `EventsService.emit`). */
export type KernelEventType = keyof typeof KERNEL_EVENT_REGISTRY;

/** The payload of each kernel event type. */
export type KernelEventPayloads = {
  [T in KernelEventType]: (typeof KERNEL_EVENT_REGISTRY)[T] extends EventTypeDef<infer P> ? P : never;
};

/** Whether `type` is a kernel event type. */
export function isKernelEventType(type: string): type is KernelEventType {
  return Object.hasOwn(KERNEL_EVENT_REGISTRY, type);
}

/** Kernel-emitted event types with what they mean (from the registry). */
export const KERNEL_EVENT_TYPES: Readonly<Record<KernelEventType, string>> = Object.fromEntries(
  Object.entries(KERNEL_EVENT_REGISTRY).map(([type, d]) => [type, d.description]),
) as Record<KernelEventType, string>;

/**
 * Families no kernel type uses yet, reserved all the same: `system_` for kernel notices, and the
 * built-in apps' own (gate and entry control, RAID health).
 */
const RESERVED_FAMILIES = ['system_', 'gate_', 'entry_', 'raid_'];

/** The family of a type: its first word and `_` (`storage_error` → `storage_`); none without `_`. */
export function eventFamily(type: string): string | null {
  const i = type.indexOf('_');
  return i > 0 ? type.slice(0, i + 1) : null;
}

/** Prefixes only the kernel may emit: every registered type's family, and the reserved ones. */
export const KERNEL_EVENT_PREFIXES: readonly string[] = [
  ...new Set([
    ...Object.keys(KERNEL_EVENT_TYPES)
      .map(eventFamily)
      .filter((f): f is string => f !== null),
    ...RESERVED_FAMILIES,
  ]),
].sort();

/** Why a client (an AI worker) may not raise this type, or null: a kernel type or kernel prefix. */
export function reservedEventType(type: string): string | null {
  if (isKernelEventType(type)) return `\`${type}\` is a kernel event type`;
  const prefix = KERNEL_EVENT_PREFIXES.find((p) => type.startsWith(p));
  return prefix ? `\`${prefix}\` is a kernel prefix` : null;
}
