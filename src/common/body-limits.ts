/** JSON body limits: 1 MiB everywhere unless a route is listed here (e.g. detection ingest). */
export const DEFAULT_JSON_LIMIT = '1mb';

export const RAISED_JSON_LIMITS: Array<{ method: string; path: RegExp; limit: string }> = [
  // Detection batches: up to 1000 detections with attributes.
  { method: 'POST', path: /^\/api\/v1\/ai\/events\/?$/, limit: '8mb' },
];
