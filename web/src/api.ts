/** The kernel's API on the same origin: the session cookie rides along; errors keep their message. */

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(`the kernel cannot be reached (${String(err)})`, 0, 'NETWORK');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const env = (json ?? {}) as { error?: unknown; code?: unknown };
    const message = typeof env.error === 'string' ? env.error : `${res.status} ${res.statusText}`;
    throw new ApiError(message, res.status, typeof env.code === 'string' ? env.code : 'HTTP_' + res.status);
  }
  return json as T;
}

export interface Me {
  id: string;
  name: string;
  role: string;
  kind: string;
  capabilities: string[];
  camera_scope: 'all' | string[];
}

export interface Camera {
  id: string;
  name: string;
  enabled: boolean;
  record_enabled: boolean;
}

export interface CameraHealth {
  camera_id: string;
  state: string;
  last_error: string | null;
}

export interface LiveView {
  hls_url: string;
  /** MediaMTX's WHEP endpoint when MediaMTX is configured, else null. */
  webrtc_url: string | null;
  ready: boolean;
  mode: string;
}

export interface TimeRange {
  start: string;
  end: string;
  seconds: number;
}

export interface Gap extends TimeRange {
  cause: string;
}

export interface KeepWindow {
  id: string;
  start: string;
  end: string;
  reason: string;
}

export interface HeldarEvent {
  seq: number;
  id: string;
  camera_id: string | null;
  event_type: string;
  severity: string;
  timestamp: string;
  payload: Record<string, unknown>;
}

export interface PlaybackSession {
  id: string;
  playlist_url: string;
  from: string;
  to: string | null;
}

/** Whether the principal holds a capability (`admin` implies every other), as the API judges it. */
export function can(me: Me, capability: string): boolean {
  return me.capabilities.includes('admin') || me.capabilities.includes(capability);
}

export interface Clip {
  id: string;
  camera_id: string;
  url: string;
  from: string;
  to: string;
  requested_seconds: number;
  covered_seconds: number;
  gaps: Array<{ from: string; to: string }>;
  segment_count: number;
  size_bytes: number;
  sha256: string;
  created_by: string;
  created_at: string;
  evidence_locked: boolean;
}

export interface Segment {
  id: string;
  camera_id: string;
  start_time: string;
  end_time: string;
  size_bytes: number;
  evidence_locked: boolean;
  incident_id: string | null;
}

export interface Incident {
  incident_id: string;
  segment_count: number;
  total_bytes: number;
  oldest_start: string;
  newest_end: string;
}
