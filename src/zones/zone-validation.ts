import { BadRequestError } from '../common/errors';
import type { JsonObject } from '../database/columns';

/** What a client may set on a zone (create: name and polygon required). */
export interface ZoneInput {
  name?: string;
  kind?: 'region' | 'presence' | 'line';
  polygon?: Array<[number, number]>;
  dwell_seconds?: number;
  labels?: string[];
  severity?: string;
  config?: JsonObject;
  enabled?: boolean;
}

const CONFIG_KEYS: Record<string, (v: unknown) => boolean> = {
  min_confidence: (v) => typeof v === 'number' && v >= 0 && v <= 1,
  confirm_frames: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 10,
  direction: (v) => v === 'any' || v === 'ab' || v === 'ba',
  static_suppression: (v) => typeof v === 'boolean',
  static_epsilon: (v) => typeof v === 'number' && v > 0 && v <= 1,
  static_after_seconds: (v) => typeof v === 'number' && v >= 1 && v <= 86_400,
};

/** Polygon rules per kind: 3..512 points for areas, exactly 2 for a line; all within 0..1. */
export function checkGeometry(kind: string, polygon: unknown): Array<[number, number]> {
  if (!Array.isArray(polygon))
    throw new BadRequestError('polygon must be an array of [x, y] points', 'VALIDATION_FAILED');
  const pts = polygon.map((p: unknown, i) => {
    if (
      !Array.isArray(p) ||
      p.length !== 2 ||
      !p.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1)
    ) {
      throw new BadRequestError(`polygon[${i}] must be [x, y] with 0 ≤ x, y ≤ 1`, 'VALIDATION_FAILED');
    }
    return [p[0], p[1]] as [number, number];
  });
  if (kind === 'line' ? pts.length !== 2 : pts.length < 3 || pts.length > 512) {
    throw new BadRequestError(
      kind === 'line' ? 'a line zone has exactly 2 points' : 'a region has 3 to 512 points',
      'VALIDATION_FAILED',
    );
  }
  return pts;
}

/** The zone settings in `config`: known keys with valid values, else a 400. */
export function checkConfig(config: JsonObject): JsonObject {
  for (const [k, v] of Object.entries(config)) {
    const ok = CONFIG_KEYS[k];
    if (!ok)
      throw new BadRequestError(
        `config.${k} is not a zone setting (${Object.keys(CONFIG_KEYS).join(', ')})`,
        'VALIDATION_FAILED',
      );
    if (!ok(v)) throw new BadRequestError(`config.${k} has an invalid value`, 'VALIDATION_FAILED');
  }
  return config;
}
