/** How a camera records (issue: recording modes). */
export const RECORD_MODES = ['continuous', 'scheduled', 'event', 'scheduled_event'] as const;
export type RecordMode = (typeof RECORD_MODES)[number];

/** Whether the mode runs the recorder only inside the camera's schedule windows. */
export const isScheduledMode = (m: RecordMode): boolean => m === 'scheduled' || m === 'scheduled_event';
