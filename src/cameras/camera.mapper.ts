import { maskUrl } from '../common/redaction';
import type { SecretBox } from '../common/secret-box';
import type { CameraDto } from './dto/camera.dto';
import type { SiteDto } from './dto/site.dto';
import type { CameraEntity } from './entities/camera.entity';
import type { SiteEntity } from './entities/site.entity';
import { type CameraUrlInput, recordUrl } from './vendor-templates';

/** Decrypted URL inputs of a camera (kernel-internal: never sent to a client as is). */
export function urlInput(c: CameraEntity, box: SecretBox): CameraUrlInput & { recordStream: 'main' | 'sub' } {
  return {
    vendor: c.vendor,
    address: c.address,
    rtspPort: c.rtspPort,
    channel: c.channel,
    username: c.username,
    password: box.openNullable(c.password),
    mainStreamUrl: box.openNullable(c.mainStreamUrl),
    subStreamUrl: box.openNullable(c.subStreamUrl),
    urlTemplate: box.openNullable(c.urlTemplate),
    recordStream: c.recordStream,
  };
}

const masked = (v: string | null | undefined) => (v ? maskUrl(v) : null);

/** The response shape: never the password, URLs with credentials masked. */
export function toCameraDto(c: CameraEntity, box: SecretBox): CameraDto {
  const input = urlInput(c, box);
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
