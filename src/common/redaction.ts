/**
 * Credential redaction. Every string that may carry a camera URL (API output, logs, ffmpeg
 * stderr tails) passes through `maskUrl`, so no credential that sits in a URL's userinfo, in its
 * query string, or (when the caller names it as a secret) anywhere else leaves the kernel.
 *
 * Every pass is linear in the length of the text: `maskUrl` runs on every stderr line of every
 * recorder, and a hostile or broken child can print megabytes without a line break.
 */

export const MASK = '***';

export interface MaskOptions {
  /**
   * Strings replaced by `***` wherever they occur (a camera's password, raw and percent-encoded, and
   * its `user:pass` pair): the only way to hide a password a template puts in a URL's path.
   */
  secrets?: readonly string[];
  /**
   * `all` (the default): every query value of every URL is masked. `credentials`: only the values
   * of credential-looking keys (for a URL the kernel built itself from a template whose secrets are
   * passed in `secrets`, so `?channel=1&subtype=0` stays readable).
   */
  query?: 'all' | 'credentials';
}

// scheme://<userinfo>@ — userinfo is everything up to the last '@' before the authority ends (a '/',
// whitespace, a quote or the end of the string), so passwords containing '@' (or a raw '?') are
// masked whole. The lookbehind anchors the scheme at a word start, keeping the scan linear.
const USERINFO = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/)([^\s/'"#<>]*)@/gi;
// A whole URL token: up to whitespace, a quote or an angle bracket.
const URL_TOKEN = /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]*/gi;
/** Placeholders of a URL template (`{user}`, `{pass}`...): shown as they are, they hold no secret. */
const PLACEHOLDER = /^\{[a-z]+\}$/;
const PLACEHOLDER_USERINFO = /^\{[a-z]+\}(?::\{[a-z]+\})?$/;
/** Key names whose values are credentials (matched inside the lower-cased key, separators removed). */
const CREDENTIAL_WORDS = /pass|pwd|token|secret|auth|key|sig|ticket|cred|session/;
const CREDENTIAL_EXACT = new Set(['pw', 'p', 'sid']);
/** Longest key looked at before an '=' outside URLs (bounds the backward scan). */
const MAX_KEY_CHARS = 64;

/** True for a key like `password`, `pwd`, `access_token`, `X-Api-Key`, `sig`, `authTicket`. */
export function isCredentialKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return CREDENTIAL_EXACT.has(k) || CREDENTIAL_WORDS.test(k);
}

/** Replaces every occurrence of every secret (longest first, so `user:pass` goes before `pass`). */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0 || text === '') return text;
  let out = text;
  for (const s of [...new Set(secrets)].filter(Boolean).sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join(MASK);
  }
  return out;
}

/**
 * Masks credentials in free text: the userinfo of every URL (`rtsp://***@host`), every query value
 * of every URL (`?user=***&password=***`, or only the credential-looking ones with
 * `query: 'credentials'`), credential-looking `key=value` pairs outside URLs (`password=***`,
 * `token=***`) and every string in `secrets`. Template placeholders (`{pass}`) are left alone.
 */
export function maskUrl(text: string, opts: MaskOptions = {}): string {
  let out = scrubSecrets(text, opts.secrets ?? []);
  if (out.includes('://')) {
    out = out.replace(USERINFO, (_m, scheme: string, info: string) =>
      PLACEHOLDER_USERINFO.test(info) ? `${scheme}${info}@` : `${scheme}${MASK}@`,
    );
    out = out.replace(URL_TOKEN, (url) => maskQuery(url, opts.query ?? 'all'));
  }
  return out.includes('=') ? maskCredentialPairs(out) : out;
}

/**
 * A request target as written to the access log (`/live/cam_x/index.m3u8?token=...`): the values of
 * credential-looking query keys (`token`, `key`, `api_key`, `ticket`, `sig`...) are masked.
 */
export function maskRequestUrl(url: string): string {
  return maskUrl(maskQuery(url, 'credentials'));
}

/** Masks the values of the query string of one URL token (everything after its first '?'). */
function maskQuery(url: string, mode: 'all' | 'credentials'): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  // ffprobe writes "<url>: Connection refused": that colon is punctuation, not part of the value.
  const colon = url.endsWith(':') ? ':' : '';
  const query = url.slice(q + 1, url.length - colon.length);
  const masked = query
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const key = eq === -1 ? '' : part.slice(0, eq);
      const value = eq === -1 ? part : part.slice(eq + 1);
      if (value === '' || value === MASK || PLACEHOLDER.test(value)) return part;
      if (mode === 'credentials' && !isCredentialKey(key)) return part;
      return eq === -1 ? MASK : `${key}=${MASK}`;
    })
    .join('&');
  return `${url.slice(0, q + 1)}${masked}${colon}`;
}

const isKeyChar = (c: number) =>
  (c >= 0x30 && c <= 0x39) || // 0-9
  (c >= 0x41 && c <= 0x5a) || // A-Z
  (c >= 0x61 && c <= 0x7a) || // a-z
  c === 0x5f || // _
  c === 0x2d || // -
  c === 0x2e; // .
/** A value ends at whitespace, a quote, '&' or an angle bracket. */
const endsValue = (c: number) =>
  c === 0x20 ||
  c === 0x09 ||
  c === 0x0a ||
  c === 0x0d ||
  c === 0x22 ||
  c === 0x27 ||
  c === 0x26 ||
  c === 0x3c ||
  c === 0x3e;

/** `password=hunter2` → `password=***` anywhere in the text; other pairs are left as they are. */
function maskCredentialPairs(text: string): string {
  let out = '';
  let last = 0;
  let i = text.indexOf('=');
  while (i !== -1) {
    let k = i;
    while (k > last && i - k < MAX_KEY_CHARS && isKeyChar(text.charCodeAt(k - 1))) k--;
    if (k < i && isCredentialKey(text.slice(k, i))) {
      let j = i + 1;
      while (j < text.length && !endsValue(text.charCodeAt(j))) j++;
      if (j > i + 1 && text.charCodeAt(j - 1) === 0x3a) j--; // "password=p: refused": punctuation
      const value = text.slice(i + 1, j);
      if (value !== '' && value !== MASK && !PLACEHOLDER.test(value)) {
        out += `${text.slice(last, i + 1)}${MASK}`;
        last = j;
        i = text.indexOf('=', j);
        continue;
      }
    }
    i = text.indexOf('=', i + 1);
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Mask the userinfo and the query string of a URL (used for webhook URLs, which may carry tokens). */
export function maskUrlAndQuery(url: string): string {
  const masked = maskUrl(url);
  const q = masked.indexOf('?');
  return q === -1 ? masked : `${masked.slice(0, q)}?***`;
}
