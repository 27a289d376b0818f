import { ConflictError } from '../common/errors';
import { isCredentialKey, maskUrl } from '../common/redaction';
import { type SecretBox, SecretBoxError, sealedIn } from '../common/secret-box';
import type { CameraDto } from './dto/camera.dto';
import type { SiteDto } from './dto/site.dto';
import type { CameraEntity } from './entities/camera.entity';
import type { SiteEntity } from './entities/site.entity';
import { type CameraUrlInput, percentEncodeUserinfo, recordUrl, type StreamKind } from './vendor-templates';

/** A filled-in camera URL with the strings that give its credentials away (kernel-internal). */
export interface CameraSource {
  url: string;
  /** Pass to the child that opens `url` (`redact`) so its stderr never shows them. */
  secrets: readonly string[];
}

/** The sealed columns of a camera row; each value is bound to its column and the camera's id. */
export const CAMERA_SEALED_COLUMNS = {
  password: 'password',
  mainStreamUrl: 'main_stream_url',
  subStreamUrl: 'sub_stream_url',
  urlTemplate: 'url_template',
} as const;
export type CameraSealedField = keyof typeof CAMERA_SEALED_COLUMNS;

/** Associated data of a camera's sealed value (`cameras.password:<id>`). */
export const cameraAad = (id: string, field: CameraSealedField): string =>
  sealedIn('cameras', CAMERA_SEALED_COLUMNS[field], id);

/** 409: a sealed credential of the camera does not open (moved from another row, or another key). */
export class CameraCredentialsUnreadable extends ConflictError {
  constructor(id: string, fields: string[]) {
    super(
      `camera \`${id}\`: ${fields.join(', ')} cannot be opened (sealed for another camera or field, or with another HELDAR_SECRET_KEY); set ${fields.length > 1 ? 'them' : 'it'} again`,
      'CAMERA_CREDENTIALS_UNREADABLE',
    );
  }
}

/** Decrypted URL inputs of a camera (kernel-internal: never sent to a client as is). Throws
 * `CameraCredentialsUnreadable` when a sealed value does not open for this camera. */
export function urlInput(c: CameraEntity, box: SecretBox): CameraUrlInput & { recordStream: 'main' | 'sub' } {
  const failed: string[] = [];
  const open = (field: CameraSealedField): string | null => {
    try {
      return box.openNullable(c[field], cameraAad(c.id, field));
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      failed.push(CAMERA_SEALED_COLUMNS[field]);
      return null;
    }
  };
  const input = {
    vendor: c.vendor,
    address: c.address,
    rtspPort: c.rtspPort,
    channel: c.channel,
    username: c.username,
    password: open('password'),
    mainStreamUrl: open('mainStreamUrl'),
    subStreamUrl: open('subStreamUrl'),
    urlTemplate: open('urlTemplate'),
    recordStream: c.recordStream,
  };
  if (failed.length > 0) throw new CameraCredentialsUnreadable(c.id, failed);
  return input;
}

/** `urlInput`, or (when a credential does not open) the camera without its sealed values and why. */
function readableUrlInput(
  c: CameraEntity,
  box: SecretBox,
): { input: ReturnType<typeof urlInput>; credentialsError: string | null } {
  try {
    return { input: urlInput(c, box), credentialsError: null };
  } catch (err) {
    if (!(err instanceof CameraCredentialsUnreadable)) throw err;
    const none = { password: null, mainStreamUrl: null, subStreamUrl: null, urlTemplate: null };
    return { input: urlInput({ ...c, ...none }, box), credentialsError: err.message };
  }
}

const given = (s: string | null | undefined): s is string => s != null && s.trim() !== '';
/** Template placeholders only (`{pass}`, `{user}:{pass}`): a template's own text, no secret. */
const PLACEHOLDERS_ONLY = /^(?:\{[a-z]+\}|:)+$/;

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Every form in which a camera's credentials can appear in a URL the kernel builds or in what a
 * tool prints about it: the password raw, percent-encoded (upper- and lower-case hex, and
 * `encodeURIComponent`'s spelling), the `user:pass` pair raw and encoded, its Basic-auth base64;
 * and, from explicit stream URLs and the template, the userinfo password and credential-looking
 * query values as typed and decoded. Masked wherever they occur: a template may put the password
 * in the URL's path, where no generic rule can recognise it.
 */
export function cameraSecrets(input: CameraUrlInput): string[] {
  const out = new Set<string>();
  const addPassword = (user: string | null | undefined, pass: string) => {
    if (PLACEHOLDERS_ONLY.test(pass)) return;
    const encoded = percentEncodeUserinfo(pass);
    out
      .add(pass)
      .add(encoded)
      .add(encoded.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
    out.add(encodeURIComponent(pass));
    if (user) {
      out.add(`${user}:${pass}`).add(`${percentEncodeUserinfo(user)}:${encoded}`);
      out.add(Buffer.from(`${user}:${pass}`).toString('base64'));
    }
  };
  if (input.password) addPassword(input.username, input.password);
  for (const url of [input.mainStreamUrl, input.subStreamUrl, input.urlTemplate]) {
    if (!given(url)) continue;
    const info = /^[a-z][a-z0-9+.-]*:\/\/([^\s/#]*)@/i.exec(url)?.[1];
    const colon = info?.indexOf(':') ?? -1;
    if (info && colon !== -1 && !PLACEHOLDERS_ONLY.test(info)) {
      const user = info.slice(0, colon);
      // A template's `{user}:literal@` expands with the camera's user name.
      addPassword(
        PLACEHOLDERS_ONLY.test(user) ? input.username : decoded(user),
        decoded(info.slice(colon + 1)),
      );
      out.add(info.slice(colon + 1));
      if (!info.includes('{')) out.add(info);
    }
    const q = url.indexOf('?');
    if (q === -1) continue;
    for (const part of url.slice(q + 1).split('&')) {
      const eq = part.indexOf('=');
      if (eq === -1 || !isCredentialKey(part.slice(0, eq))) continue;
      const value = part.slice(eq + 1);
      if (!PLACEHOLDERS_ONLY.test(value)) out.add(value).add(decoded(value));
    }
  }
  return [...out].filter((s) => s !== '');
}

/**
 * A camera URL as shown to clients (`record_url_masked`, the `/test` answer): its secrets replaced,
 * userinfo masked, and every query value masked; only a URL built from a vendor template (whose
 * query is the kernel's own, e.g. `?channel=1&subtype=0`) keeps its non-credential query values.
 */
export function maskCameraUrl(
  input: CameraUrlInput,
  stream: StreamKind,
  url: string,
  secrets: readonly string[] = cameraSecrets(input),
): string {
  const explicit = stream === 'main' ? input.mainStreamUrl : input.subStreamUrl;
  const vendorBuilt = !given(explicit) && !given(input.urlTemplate);
  return maskUrl(url, { secrets, query: vendorBuilt ? 'credentials' : 'all' });
}

/** The response shape: never the password; no filled-in URL (secrets, userinfo, query values masked);
 * the template shown with its placeholders. */
export function toCameraDto(c: CameraEntity, box: SecretBox): CameraDto {
  const { input, credentialsError } = readableUrlInput(c, box);
  const secrets = cameraSecrets(input);
  const masked = (v: string | null | undefined) => (v ? maskUrl(v, { secrets }) : null);
  const record = recordUrl(input);
  return {
    id: c.id,
    name: c.name,
    site_id: c.siteId,
    vendor: c.vendor,
    model: c.model,
    address: c.address,
    rtsp_port: c.rtspPort,
    channel: c.channel,
    username: c.username,
    has_password: c.password !== null && c.password !== '',
    credentials_error: credentialsError,
    main_stream_url: masked(input.mainStreamUrl),
    sub_stream_url: masked(input.subStreamUrl),
    url_template: masked(input.urlTemplate),
    record_stream: c.recordStream,
    record_url_masked: record && maskCameraUrl(input, c.recordStream, record, secrets),
    record_enabled: c.recordEnabled,
    record_mode: c.recordMode,
    pre_roll_seconds: c.preRollSeconds,
    post_roll_seconds: c.postRollSeconds,
    segment_seconds: c.segmentSeconds,
    retention_hours: c.retentionHours,
    storage_quota_bytes: c.storageQuotaBytes,
    record_audio: c.recordAudio,
    enabled: c.enabled,
    priority: c.priority,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

export function toSiteDto(s: SiteEntity): SiteDto {
  return { id: s.id, name: s.name, timezone: s.timezone, created_at: s.createdAt, updated_at: s.updatedAt };
}
