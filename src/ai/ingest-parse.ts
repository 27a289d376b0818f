import { BadRequestError } from '../common/errors';
import type { JsonObject } from '../database/columns';
import { reservedEventType } from '../events/event-types';

export const MAX_DETECTIONS = 1000;
const EVENT_TYPE = /^[a-z0-9_]{1,64}$/;
const TOP_FIELDS = new Set(['camera_id', 'task_type', 'timestamp', 'frame_id', 'detections', 'event']);
const DET_FIELDS = new Set(['label', 'confidence', 'bbox', 'track_id', 'attributes']);

export interface ParsedDetection {
  label: string;
  confidence: number | null;
  bbox: number[] | null;
  trackId: string | null;
  attributes: unknown;
}

export interface ParsedIngest {
  cameraId: string;
  taskType: string;
  timestamp: string;
  frameId: string | null;
  detections: ParsedDetection[];
  event: { eventType: string; severity: 'info' | 'warning'; payload: JsonObject } | null;
}

const bad = (msg: string) => new BadRequestError(msg, 'VALIDATION_FAILED');
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function str(v: unknown, field: string, max: number, required: boolean): string | null {
  if (v === undefined || v === null) {
    if (required) throw bad(`${field} is required`);
    return null;
  }
  if (typeof v !== 'string') throw bad(`${field} must be a string`);
  const s = v.trim();
  if (required && s.length === 0) throw bad(`${field} must not be empty`);
  if (s.length > max) throw bad(`${field} must be at most ${max} characters`);
  return s;
}

/**
 * Validate an ingest body by hand (the hot path: a class-validator pass over 1000 nested objects
 * costs more than the insert). Every problem is a 400 naming the field.
 */
export function parseIngest(body: unknown, nowIso: string): ParsedIngest {
  if (!isObject(body)) throw bad('body must be a JSON object');
  for (const k of Object.keys(body)) if (!TOP_FIELDS.has(k)) throw bad(`property ${k} should not exist`);
  const cameraId = str(body.camera_id, 'camera_id', 64, true)!;
  const taskType = str(body.task_type, 'task_type', 64, true)!;
  let timestamp = nowIso;
  if (body.timestamp !== undefined && body.timestamp !== null) {
    const ms = typeof body.timestamp === 'string' ? Date.parse(body.timestamp) : NaN;
    if (!Number.isFinite(ms)) throw bad('timestamp must be an RFC 3339 timestamp');
    timestamp = new Date(ms).toISOString();
  }
  const frameId = str(body.frame_id, 'frame_id', 200, false) || null;
  const raw = body.detections ?? [];
  if (!Array.isArray(raw)) throw bad('detections must be an array');
  if (raw.length > MAX_DETECTIONS)
    throw bad(`at most ${MAX_DETECTIONS} detections per batch (got ${raw.length})`);
  const detections = raw.map((d: unknown, i): ParsedDetection => {
    const at = `detections[${i}]`;
    if (!isObject(d)) throw bad(`${at} must be an object`);
    for (const k of Object.keys(d)) if (!DET_FIELDS.has(k)) throw bad(`${at}.${k} should not exist`);
    let confidence: number | null = null;
    if (d.confidence !== undefined && d.confidence !== null) {
      if (
        typeof d.confidence !== 'number' ||
        !Number.isFinite(d.confidence) ||
        d.confidence < 0 ||
        d.confidence > 1
      ) {
        throw bad(`${at}.confidence must be a number from 0 to 1`);
      }
      confidence = d.confidence;
    }
    let bbox: number[] | null = null;
    if (d.bbox !== undefined && d.bbox !== null) {
      if (
        !Array.isArray(d.bbox) ||
        d.bbox.length !== 4 ||
        !d.bbox.every((x) => typeof x === 'number' && Number.isFinite(x))
      ) {
        throw bad(`${at}.bbox must be [x, y, w, h] of finite numbers`);
      }
      bbox = d.bbox as number[];
    }
    let trackId: string | null = null;
    if (d.track_id !== undefined && d.track_id !== null) {
      if (typeof d.track_id === 'number' && Number.isFinite(d.track_id)) trackId = String(d.track_id);
      else trackId = str(d.track_id, `${at}.track_id`, 128, false);
    }
    return {
      label: str(d.label, `${at}.label`, 128, false) ?? '',
      confidence,
      bbox,
      trackId,
      attributes: d.attributes ?? {},
    };
  });
  let event: ParsedIngest['event'] = null;
  if (body.event !== undefined && body.event !== null) {
    const e = body.event;
    if (!isObject(e)) throw bad('event must be an object');
    const type = str(e.event_type, 'event.event_type', 64, true)!;
    if (!EVENT_TYPE.test(type)) throw bad('event.event_type must match ^[a-z0-9_]{1,64}$');
    // Worker events may not pose as kernel events: the registry's types and their families.
    const reserved = reservedEventType(type);
    if (reserved) {
      throw new BadRequestError(
        `event.event_type must not be a kernel event type or use a kernel prefix: ${reserved}`,
        'RESERVED_EVENT_TYPE',
      );
    }
    if (e.payload !== undefined && !isObject(e.payload)) throw bad('event.payload must be an object');
    event = {
      eventType: type,
      // A worker may raise info or warning; anything else is clamped to warning.
      severity: e.severity === undefined || e.severity === 'info' ? 'info' : 'warning',
      payload: e.payload ?? {},
    };
  }
  return { cameraId, taskType, timestamp, frameId, detections, event };
}

/** Server-owned provenance: a client's `source` / `_prov` never survive; non-objects are wrapped. */
export function stampAttributes(attributes: unknown, prov: { key: string; task: string }): JsonObject {
  const base: JsonObject = isObject(attributes) ? { ...attributes } : { _client: attributes };
  delete base.source;
  delete base._prov;
  base.source = 'worker';
  base._prov = prov;
  return base;
}
