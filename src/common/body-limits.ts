/** JSON body limits: 1 MiB everywhere unless a route is listed here (e.g. detection ingest). */
export const DEFAULT_JSON_LIMIT = '1mb';

export const RAISED_JSON_LIMITS: Array<{ method: string; path: RegExp; limit: string }> = [];
