/**
 * Camera vendor RTSP URL templates and stream URL building. Pure functions: no I/O, no DI.
 *
 * Vendor path templates (CAMERA_VENDORS main/sub) use these placeholders:
 *   {channel}     1-based channel number
 *   {channel:02}  the channel zero-padded to two digits (Reolink: 01, 02, ... 12)
 *   {channel-1/}  zero-based channel followed by '/', and nothing for channel 1 (Hanwha, see below)
 * Per-camera URL templates (`urlTemplate`) use the user-facing set in URL_TEMPLATE_PLACEHOLDERS.
 */
import { isIPv6 } from 'node:net';

export const VENDOR_IDS = [
  'hikvision',
  'dahua',
  'amcrest',
  'axis',
  'reolink',
  'uniview',
  'hanwha',
  'tapo',
  'foscam',
  'generic',
] as const;

export type VendorId = (typeof VENDOR_IDS)[number];
export type StreamKind = 'main' | 'sub';

export type VendorTemplate = {
  readonly id: VendorId;
  /** Display name. */
  readonly name: string;
  readonly defaultPort: number;
  /** Path (and query) template for the stream, appended to `rtsp://<creds><host>:<port>`; null = none. */
  readonly main: string | null;
  readonly sub: string | null;
  readonly notes?: string;
};

/** A vendor as listed by `GET /api/v1/camera-vendors`: the template plus full example URL shapes. */
export type VendorDescription = VendorTemplate & {
  readonly mainUrl: string | null;
  readonly subUrl: string | null;
  /** Whether the camera's channel number changes the URL. */
  readonly usesChannel: boolean;
};

export type CameraUrlInput = {
  vendor: string;
  address?: string | null;
  rtspPort?: number | null;
  channel?: number | null;
  username?: string | null;
  /** Already decrypted plaintext. */
  password?: string | null;
  mainStreamUrl?: string | null;
  subStreamUrl?: string | null;
  urlTemplate?: string | null;
};

const DEFAULT_RTSP_PORT = 554;

const VENDORS: VendorTemplate[] = [
  {
    id: 'hikvision',
    name: 'Hikvision',
    defaultPort: DEFAULT_RTSP_PORT,
    main: '/Streaming/Channels/{channel}01',
    sub: '/Streaming/Channels/{channel}02',
    notes: 'Channel N is N01 (main) and N02 (sub): channel 1 is 101/102, channel 12 is 1201/1202.',
  },
  {
    id: 'dahua',
    name: 'Dahua',
    defaultPort: DEFAULT_RTSP_PORT,
    main: '/cam/realmonitor?channel={channel}&subtype=0',
    sub: '/cam/realmonitor?channel={channel}&subtype=1',
  },
  {
    id: 'amcrest',
    name: 'Amcrest',
    defaultPort: DEFAULT_RTSP_PORT,
    main: '/cam/realmonitor?channel={channel}&subtype=0',
    sub: '/cam/realmonitor?channel={channel}&subtype=1',
    notes: 'Same paths as Dahua.',
  },
  {
    id: 'axis',
    name: 'Axis',
    defaultPort: DEFAULT_RTSP_PORT,
    main: '/axis-media/media.amp?camera={channel}',
    sub: '/axis-media/media.amp?camera={channel}&resolution=640x360',
    notes: 'The sub stream is the same video source scaled to 640x360.',
  },
  {
    id: 'reolink',
    name: 'Reolink',
    defaultPort: DEFAULT_RTSP_PORT,
    main: '/h264Preview_{channel:02}_main',
    sub: '/h264Preview_{channel:02}_sub',
    notes: 'The channel is written with two digits: 01, 02, ...',
  },
  {
    id: 'uniview',
    name: 'Uniview',
    defaultPort: DEFAULT_RTSP_PORT,
    main: '/unicast/c{channel}/s0/live',
    sub: '/unicast/c{channel}/s1/live',
  },
  // Hanwha (Wisenet): a single camera serves /profile2 (main) and /profile3 (sub). Multi-channel
  // devices (NVRs, multi-sensor cameras) prefix the zero-based channel: /1/profile2/media.smp is
  // channel 2. We keep channel 1 unprefixed, so it also works on single-channel cameras.
  {
    id: 'hanwha',
    name: 'Hanwha (Wisenet)',
    defaultPort: DEFAULT_RTSP_PORT,
    main: '/{channel-1/}profile2/media.smp',
    sub: '/{channel-1/}profile3/media.smp',
    notes:
      'Channel 1: /profile2/media.smp (main), /profile3/media.smp (sub). ' +
      'Channel N > 1: /{N-1}/profile2/media.smp (zero-based channel prefix).',
  },
  {
    id: 'tapo',
    name: 'TP-Link Tapo',
    defaultPort: DEFAULT_RTSP_PORT,
    main: '/stream1',
    sub: '/stream2',
    notes: 'Uses the camera account created in the Tapo app, not the TP-Link cloud login.',
  },
  {
    id: 'foscam',
    name: 'Foscam',
    defaultPort: 88,
    main: '/videoMain',
    sub: '/videoSub',
    notes: 'RTSP listens on port 88 by default.',
  },
  {
    id: 'generic',
    name: 'Generic (explicit URLs)',
    defaultPort: DEFAULT_RTSP_PORT,
    main: null,
    sub: null,
    notes: 'No template: set the stream URLs explicitly, or a per-camera URL template.',
  },
];

export const CAMERA_VENDORS: readonly VendorTemplate[] = Object.freeze(VENDORS.map((v) => Object.freeze(v)));

const VENDOR_BY_ID = new Map<string, VendorTemplate>(CAMERA_VENDORS.map((v) => [v.id, v]));

/** Type guard for validated input; an unknown vendor is a 400 for the caller. */
export function isVendorId(v: unknown): v is VendorId {
  return typeof v === 'string' && VENDOR_BY_ID.has(v);
}

export function getVendor(id: string): VendorTemplate | undefined {
  return VENDOR_BY_ID.get(id);
}

/** Placeholders allowed in a per-camera `urlTemplate`. */
export const URL_TEMPLATE_PLACEHOLDERS = ['user', 'pass', 'host', 'port', 'channel', 'stream'] as const;
type UrlPlaceholder = (typeof URL_TEMPLATE_PLACEHOLDERS)[number];

const USERINFO_PREFIX = '{user}:{pass}@{host}:{port}';

/** Each vendor with its example URL shapes, in CAMERA_VENDORS order. */
export function describeVendors(): VendorDescription[] {
  const url = (path: string | null) => (path === null ? null : `rtsp://${USERINFO_PREFIX}${path}`);
  return CAMERA_VENDORS.map((v) => ({
    ...v,
    mainUrl: url(v.main),
    subUrl: url(v.sub),
    usesChannel: [v.main, v.sub].some((p) => p !== null && p.includes('{channel')),
  }));
}

/** Percent-encodes every UTF-8 byte except the RFC 3986 unreserved set `A-Za-z0-9-._~`. */
export function percentEncodeUserinfo(s: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(s)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const MAX_TEMPLATE_LENGTH = 2048;

/** Returns an error message for an invalid per-camera URL template, or null when it is valid. */
export function validateUrlTemplate(tpl: unknown): string | null {
  if (typeof tpl !== 'string') return 'URL template must be a string';
  if (tpl === '') return 'URL template is empty';
  if (tpl.length > MAX_TEMPLATE_LENGTH) return `URL template is over ${MAX_TEMPLATE_LENGTH} characters`;
  if (/[\s\p{Cc}]/u.test(tpl)) return 'URL template must not contain whitespace or control characters';
  // Lowercase only: ffmpeg matches protocol names case-sensitively.
  if (!/^(rtsps?|https?):\/\/./.test(tpl)) {
    return 'URL template must start with rtsp://, rtsps://, http:// or https:// followed by a host';
  }
  const known: readonly string[] = URL_TEMPLATE_PLACEHOLDERS;
  for (const [, name] of tpl.matchAll(/\{([^{}]*)\}/g)) {
    if (!known.includes(name)) {
      const allowed = URL_TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ');
      return `Unknown placeholder {${name}} in URL template (allowed: ${allowed})`;
    }
  }
  if (/[{}]/.test(tpl.replace(/\{[^{}]*\}/g, ''))) return 'Unbalanced brace in URL template';
  return null;
}

/**
 * Builds the URL of one stream, or null when that stream is not available. In order: an explicit
 * URL for the stream, else the per-camera template, else the vendor template (none for generic).
 * Blank strings count as unset; an invalid template, address, port or channel gives null.
 */
export function buildStreamUrl(cam: CameraUrlInput, stream: StreamKind): string | null {
  // 1. An explicit URL for this stream wins, as is.
  const explicit = nonBlank(stream === 'main' ? cam.mainStreamUrl : cam.subStreamUrl);
  if (explicit !== null) return explicit;

  // 2. A per-camera template. Without {stream} it describes a single (main) stream.
  const template = nonBlank(cam.urlTemplate);
  if (template !== null) {
    if (stream === 'sub' && !template.includes('{stream}')) return null;
    if (validateUrlTemplate(template) !== null) return null;
    const params = resolveParams(cam);
    return params && expandUrlTemplate(template, params, stream);
  }

  // 3. The vendor template (4. generic and unknown vendors have none).
  const path = getVendor(cam.vendor)?.[stream] ?? null;
  if (path === null) return null;
  const params = resolveParams(cam);
  if (!params) return null;
  const { user, pass, host, port, channel } = params;
  return `rtsp://${userinfo(user, pass)}${host}:${port}${renderVendorPath(path, channel)}`;
}

/** The URL of the stream chosen for recording; null (no fallback) when that stream is not available. */
export function recordUrl(cam: CameraUrlInput & { recordStream: StreamKind }): string | null {
  return buildStreamUrl(cam, cam.recordStream);
}

/** The URL for live view: the sub stream when available, else the main stream. */
export function liveUrl(cam: CameraUrlInput): string | null {
  return buildStreamUrl(cam, 'sub') ?? buildStreamUrl(cam, 'main');
}

type UrlParams = { user: string | null; pass: string | null; host: string; port: number; channel: number };

/** Credentials, host, port and channel with defaults applied; null without an address or out of range. */
function resolveParams(cam: CameraUrlInput): UrlParams | null {
  const address = cam.address?.trim();
  if (!address) return null;
  const port = cam.rtspPort ?? getVendor(cam.vendor)?.defaultPort ?? DEFAULT_RTSP_PORT;
  const channel = cam.channel ?? 1;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  if (!Number.isInteger(channel) || channel < 1) return null;
  // Credentials are not trimmed: whitespace may be part of them. Empty counts as unset.
  const user = cam.username || null;
  const pass = cam.password || null;
  return { user, pass, host: formatHost(address), port, channel };
}

/** Brackets IPv6 literals (zone id `%` escaped as `%25`, RFC 6874); other hosts are left alone. */
function formatHost(address: string): string {
  if (address.startsWith('[') && address.endsWith(']')) return address;
  return isIPv6(address) ? `[${address.replace(/%/g, '%25')}]` : address;
}

/** `user:pass@`, `user@` with no password, nothing with no user. */
function userinfo(user: string | null, pass: string | null): string {
  if (user === null) return '';
  const u = percentEncodeUserinfo(user);
  return pass === null ? `${u}@` : `${u}:${percentEncodeUserinfo(pass)}@`;
}

/** One pass, so substituted values are never expanded again. Missing credentials expand to ''. */
function expandUrlTemplate(tpl: string, p: UrlParams, stream: StreamKind): string {
  const values: Record<UrlPlaceholder, () => string> = {
    user: () => percentEncodeUserinfo(p.user ?? ''),
    pass: () => percentEncodeUserinfo(p.pass ?? ''),
    host: () => p.host,
    port: () => String(p.port),
    channel: () => String(p.channel),
    stream: () => stream,
  };
  return tpl.replace(/\{([a-z]+)\}/g, (_m, name: UrlPlaceholder) => values[name]());
}

function renderVendorPath(path: string, channel: number): string {
  return path.replace(/\{([^{}]+)\}/g, (m, token: string) => {
    switch (token) {
      case 'channel':
        return String(channel);
      case 'channel:02':
        return String(channel).padStart(2, '0');
      case 'channel-1/':
        return channel === 1 ? '' : `${channel - 1}/`;
      default:
        throw new Error(`Unknown vendor template placeholder ${m}`);
    }
  });
}

/** The string as is, or null when it is null, undefined, empty or whitespace only. */
function nonBlank(s: string | null | undefined): string | null {
  return s != null && s.trim() !== '' ? s : null;
}
