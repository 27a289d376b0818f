/**
 * Credential redaction. Every string that may carry a camera URL (API output, logs, ffmpeg
 * stderr tails) passes through `maskUrl` so `scheme://user:pass@host` never leaves the kernel.
 */

// scheme://<userinfo>@ — userinfo is everything up to the last '@' before the authority ends
// (a '/', whitespace, a quote or the end of the string), so passwords containing '@' are masked whole.
// The lookbehind anchors the scheme at a word start, keeping the scan linear on long lines.
const USERINFO = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/)([^\s/'"?#]*@)/gi;

/** Replace the userinfo of every URL in `text` with `***@`. */
export function maskUrl(text: string): string {
  return text.replace(USERINFO, '$1***@');
}

/** Mask the userinfo and the query string of a URL (used for webhook URLs, which may carry tokens). */
export function maskUrlAndQuery(url: string): string {
  const masked = maskUrl(url);
  const q = masked.indexOf('?');
  return q === -1 ? masked : `${masked.slice(0, q)}?***`;
}
