/** How a camera records (issue: recording modes). */
export const RECORD_MODES = ['continuous', 'scheduled', 'event', 'scheduled_event'] as const;
export type RecordMode = (typeof RECORD_MODES)[number];

/** Whether the mode runs the recorder only inside the camera's schedule windows. */
export const isScheduledMode = (m: RecordMode): boolean => m === 'scheduled' || m === 'scheduled_event';

/** Whether the mode keeps only footage around triggers. */
export const isEventMode = (m: RecordMode): boolean => m === 'event' || m === 'scheduled_event';

/** `kept_by` of a new segment: why it exists (`pending` until an event camera's decision). */
export const KEPT_PENDING = 'pending';
export function keptByForMode(m: RecordMode): string {
  if (isEventMode(m)) return KEPT_PENDING;
  return m === 'scheduled' ? 'schedule' : 'continuous';
}
