import type { IncomingHttpHeaders } from 'node:http';

/** Methods that may change state: a cookie-authenticated one must come from an allowed origin. */
export const STATE_CHANGING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * Why a request carrying the session cookie must be refused as cross-origin, or null when it may
 * pass. Allowed origins: the request's own (its `Host`, over http or https, since a TLS-terminating
 * reverse proxy forwards https pages over plain http) and those listed in HELDAR_CORS_ORIGINS (`*`
 * there admits no one: it is served without credentials).
 *
 * Judged, in order: the browser's `Origin`; when it is absent or `null` (a browser sends `null` for
 * a same-origin POST from a page whose Referrer-Policy is `no-referrer`, as the kernel's own pages
 * are, and for a sandboxed page, as a sidecar page is), the browser-set `Sec-Fetch-Site`, which must
 * be `same-origin`; without it, the origin of `Referer`. A request with none of these comes from no
 * browser page (curl, a script with a cookie jar) and passes; an opaque origin never does.
 */
export function crossOriginRefusal(
  headers: Pick<IncomingHttpHeaders, 'origin' | 'referer' | 'host'> & {
    'sec-fetch-site'?: string | string[];
  },
  allowlist: readonly string[],
): string | null {
  let claimed = one(headers.origin)?.trim();
  let via = 'Origin';
  if (!claimed || claimed === 'null') {
    const site = one(headers['sec-fetch-site'])?.trim().toLowerCase();
    if (site) return site === 'same-origin' ? null : `a ${site} request without an origin`;
    if (claimed === 'null') return 'the Origin is opaque (null)';
    const referer = one(headers.referer)?.trim();
    if (!referer) return null;
    via = 'Referer';
    try {
      claimed = new URL(referer).origin;
    } catch {
      return 'the Referer is not a URL';
    }
    if (claimed === 'null') return 'the Referer has an opaque origin';
  }
  if (/[\s,]/.test(claimed)) return `the ${via} is not one origin`;
  let url: URL;
  try {
    url = new URL(claimed);
  } catch {
    return `the ${via} is not an origin`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `the ${via} is not an http(s) origin`;
  const listed = allowlist.filter((o) => o !== '*').map(normaliseOrigin);
  if (listed.includes(url.origin)) return null;
  const host = one(headers.host)?.trim();
  if (host && !/[\s,/@\\]/.test(host)) {
    try {
      if (new URL(`${url.protocol}//${host}`).host === url.host) return null;
    } catch {
      // an unparseable Host matches nothing
    }
  }
  return `${url.origin} is neither this server's origin nor in HELDAR_CORS_ORIGINS`;
}

function normaliseOrigin(o: string): string {
  try {
    return new URL(o).origin;
  } catch {
    return o;
  }
}
