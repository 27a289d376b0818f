/**
 * Camera http(s) sources must not reach link-local or metadata addresses (ffmpeg fetches them from
 * the kernel's host). Pure functions; the address judgement lives in common/ip-address.
 */
import { hostRefusal } from '../common/ip-address';
import { buildStreamUrl, type CameraUrlInput } from './vendor-templates';

const nonBlank = (s: string | null | undefined): string | null => (s != null && s.trim() !== '' ? s : null);

/**
 * Why an http(s) camera source may not be fetched (its host, in any spelling, is link-local, a
 * metadata address or name, unspecified or multicast), or null; other schemes are not judged
 * (RTSP cameras live on the LAN, link-local included). The host is read both as the WHATWG URL
 * parser does and as ffmpeg does (the last `@` before the first `/`, `?` or `#`: a backslash is
 * no separator to it), and both must pass.
 */
export function httpSourceRefusal(url: string): string | null {
  const m = /^(https?):\/\/([^/?#]*)/i.exec(url.trim());
  if (!m) return null;
  const hosts: string[] = [];
  try {
    hosts.push(new URL(url.trim()).hostname);
  } catch {
    // judged on ffmpeg's reading alone
  }
  const authority = m[2].slice(m[2].lastIndexOf('@') + 1);
  const bracketed = /^\[[^\]]*\]/.exec(authority);
  hosts.push(bracketed ? bracketed[0] : authority.replace(/:[^:]*$/, ''));
  for (const host of hosts) {
    const why = hostRefusal(host);
    if (why) return `camera ${m[1].toLowerCase()} URL host ${host} is ${why}`;
  }
  return null;
}

/**
 * Why a camera's stream URLs may not be used (see httpSourceRefusal), or null: each explicit URL,
 * and the template or vendor URL each stream would use without them (so a stored template is judged
 * even while an explicit URL hides it; a missing address counts as a harmless placeholder).
 */
export function streamUrlsRefusal(cam: CameraUrlInput): string | null {
  const fallback: CameraUrlInput = {
    ...cam,
    mainStreamUrl: null,
    subStreamUrl: null,
    address: nonBlank(cam.address) ?? 'camera.invalid',
  };
  const urls = [
    nonBlank(cam.mainStreamUrl),
    nonBlank(cam.subStreamUrl),
    buildStreamUrl(fallback, 'main'),
    buildStreamUrl(fallback, 'sub'),
  ];
  for (const url of urls) {
    const why = url === null ? null : httpSourceRefusal(url);
    if (why) return why;
  }
  return null;
}
