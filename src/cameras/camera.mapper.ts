import { ConflictError } from '../common/errors';
import { maskUrl } from '../common/redaction';
import { type SecretBox, SecretBoxError, sealedIn } from '../common/secret-box';
import type { CameraDto } from './dto/camera.dto';
import type { SiteDto } from './dto/site.dto';
import type { CameraEntity } from './entities/camera.entity';
import type { SiteEntity } from './entities/site.entity';
import { type CameraUrlInput, recordUrl } from './vendor-templates';

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

const masked = (v: string | null | undefined) => (v ? maskUrl(v) : null);

/** The response shape: never the password, URLs with credentials masked. */
export function toCameraDto(c: CameraEntity, box: SecretBox): CameraDto {
  const { input, credentialsError } = readableUrlInput(c, box);
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
    record_url_masked: masked(recordUrl(input)),
    record_enabled: c.recordEnabled,
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
