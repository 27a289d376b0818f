import { rewriteLoopbackHost } from './liveview.service';

/**
 * The origins the console's browser reaches MediaMTX at (its WebRTC/WHEP and HLS servers), as the
 * live-view URLs name them for a request with this Host: what the console's CSP `connect-src`
 * must allow, and nothing more. A base that is not a valid URL is left out.
 */
export function mediamtxClientOrigins(bases: readonly string[], requestHost: string | undefined): string[] {
  const out = new Set<string>();
  for (const b of bases) {
    try {
      const origin = new URL(rewriteLoopbackHost(b, requestHost)).origin;
      if (origin !== 'null') out.add(origin);
    } catch {
      // not a URL: nothing to allow
    }
  }
  return [...out];
}
