import { createHmac, timingSafeEqual } from 'node:crypto';

/** Who a live-view token was minted for: an API key, a user, or the system (auth off). */
export type LiveSubjectKind = 'api_key' | 'user' | 'system';

export interface LiveTokenClaims {
  path: string;
  kind: LiveSubjectKind;
  subject: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/** Live paths are named `cam_<id>` (MediaMTX paths, built-in publisher directories, token paths). */
export const LIVE_PATH_PREFIX = 'cam_';
export const livePathName = (cameraId: string): string => `${LIVE_PATH_PREFIX}${cameraId}`;

const KIND_TAG: Record<LiveSubjectKind, string> = { api_key: 'k', user: 'u', system: 's' };
const TAG_KIND: Record<string, LiveSubjectKind> = { k: 'api_key', u: 'user', s: 'system' };
const VERSION = 'v1';
/** Tokens are short; anything longer is refused before any work. */
const MAX_TOKEN_CHARS = 512;

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function mac(key: Buffer, c: LiveTokenClaims): Buffer {
  return createHmac('sha256', key).update(`${c.path}\n${c.exp}\n${KIND_TAG[c.kind]}\n${c.subject}`).digest();
}

/**
 * `v1.<exp>.<k|u|s>.<b64url(subject)>.<b64url(HMAC-SHA256(key, "path\nexp\ntag\nsubject"))>`.
 * The key is derived from the kernel's secret key, so tokens survive a restart; the path (`cam_<id>`)
 * is signed, so a token opens one camera only; the subject is re-checked on every use.
 */
export function signLiveToken(key: Buffer, claims: LiveTokenClaims): string {
  return [VERSION, claims.exp, KIND_TAG[claims.kind], b64url(claims.subject), b64url(mac(key, claims))].join(
    '.',
  );
}

/** The claims of a token valid for `path` at `nowSec`, else null (malformed, forged, expired, other path). */
export function verifyLiveToken(
  key: Buffer,
  token: string | undefined | null,
  path: string,
  nowSec: number,
): LiveTokenClaims | null {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) return null;
  const parts = token.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) return null;
  const [, expText, tag, subjectB64, macB64] = parts;
  if (!/^\d{1,12}$/.test(expText) || !(tag in TAG_KIND)) return null;
  if (!/^[A-Za-z0-9_-]{0,200}$/.test(subjectB64) || !/^[A-Za-z0-9_-]{43}$/.test(macB64)) return null;
  const claims: LiveTokenClaims = {
    path,
    kind: TAG_KIND[tag],
    subject: Buffer.from(subjectB64, 'base64url').toString('utf8'),
    exp: Number(expText),
  };
  // Compared as canonical text: base64url's last character carries spare bits, so decoding alone
  // would accept several spellings of one MAC.
  const expected = Buffer.from(b64url(mac(key, claims)));
  const given = Buffer.from(macB64);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  if (claims.exp <= nowSec) return null;
  return claims;
}

/** The token in a MediaMTX auth request: its `token` field, else `token=` in the query string. */
export function tokenFromQuery(query: string | undefined | null): string | null {
  if (typeof query !== 'string' || query.length === 0) return null;
  try {
    return new URLSearchParams(query.replace(/^\?/, '')).get('token');
  } catch {
    return null;
  }
}
