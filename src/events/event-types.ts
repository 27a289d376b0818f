export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: string): number {
  const i = (SEVERITIES as readonly string[]).indexOf(s);
  return i === -1 ? 0 : i;
}

/** Kernel-emitted event types (reference Appendix A) with what they mean. */
export const KERNEL_EVENT_TYPES: Record<string, string> = {
  camera_created: 'A camera was registered',
  camera_updated: 'A camera was changed',
  camera_deleted: 'A camera was removed',
  camera_offline: 'A recorder lost its camera (the ffmpeg child exited)',
  recorder_error: 'A recorder cannot run (no URL, stale output, spawn failure)',
  recording_gap: 'A hole in the recorded timeline, with its cause',
  recording_started:
    'A camera started recording because of its mode (payload.reason: schedule — its window opened; trigger — an event camera’s keep window opened)',
  recording_stopped:
    'A camera stopped recording because of its mode (payload.reason: schedule — its window closed; window_end — an event camera’s keep window ended)',
  recording_triggered:
    'A recording trigger arrived through the API (payload: reason, mode, the keep window or null)',
  ai_tasks_changed: 'AI tasks of a camera were created, changed or removed',
  sampler_offline: 'An AI frame sampler exited',
  retention_delete: 'Recordings were pruned by retention',
  disk_pressure: 'Storage is short (quota, cap or free-disk floor)',
  recording_orphans: 'Recording files no segment knows were reclaimed',
  storage_error: 'The recordings directory cannot be written',
  zone_enter: 'A tracked object entered a zone',
  zone_exit: 'A tracked object left a zone',
  zone_dwell: 'A tracked object stayed in a zone longer than its dwell time',
  zone_cross_ab: 'A tracked object crossed a line from A to B',
  zone_cross_ba: 'A tracked object crossed a line from B to A',
  webhook_failing: 'A webhook subscription keeps failing',
  module_unreachable: 'A sidecar module stopped answering its health probe',
  module_recovered: 'A sidecar module answers its health probe again',
  module_state_changed:
    'A module (built-in or sidecar) changed lifecycle state: running, failed (with the reason), stopped …',
  webhook_recovered: 'A failing webhook subscription delivers again',
  webhook_test: 'A test delivery (POST /webhooks/{id}/test; sent, never stored)',
  zone_static_suppressed: 'A tracked object stood still in a zone and is no longer reported',
  audit_head:
    "The audit chain's newest row (seq and keyed hash), every HELDAR_AUDIT_HEAD_EVERY rows and daily: pin it outside the kernel",
};

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
  if (Object.hasOwn(KERNEL_EVENT_TYPES, type)) return `\`${type}\` is a kernel event type`;
  const prefix = KERNEL_EVENT_PREFIXES.find((p) => type.startsWith(p));
  return prefix ? `\`${prefix}\` is a kernel prefix` : null;
}
