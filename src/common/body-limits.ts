/** JSON body limits: 1 MiB everywhere unless a route is listed here (e.g. detection ingest). */
export const DEFAULT_JSON_LIMIT = '1mb';

export const RAISED_JSON_LIMITS: Array<{ method: string; path: RegExp; limit: string }> = [
  // Detection batches: up to 1000 detections with attributes.
  { method: 'POST', path: /^\/api\/v1\/ai\/events\/?$/, limit: '8mb' },
];

/** JSON nested deeper than this is refused before parsing (validation recurses per level). */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

/** True when the JSON text nests objects/arrays deeper than `max` (strings are skipped; one pass). */
export function jsonDeeperThan(buf: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return false;
}
