import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { assertCameraScope, type Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { BadRequestError, CameraNotFound, ConflictError } from '../common/errors';
import { serverTimeZone } from '../common/time-zone';
import { slugify } from '../common/ids';
import { SecretBox } from '../common/secret-box';
import { HeldarConfig } from '../config/heldar-config';
import { CacheInvalidation } from '../events/cache-invalidation';
import { EventBus, type Unsubscribe } from '../events/event-bus';
import { EventsService } from '../events/events.service';
import { ProbeGovernor } from '../media/media-jobs';
import { MediaService } from '../media/media.service';
import {
  CAMERA_SEALED_COLUMNS,
  cameraAad,
  CameraCredentialsUnreadable,
  type CameraSealedField,
  cameraSecrets,
  type CameraSource,
  maskCameraUrl,
  toCameraDto,
  urlInput,
} from './camera.mapper';
import { CameraDeletionChecks } from './camera-deletion-checks';
import { CamerasRepository } from './cameras.repository';
import { SITES_CACHE } from './sites.service';
import type { CameraDto, CameraTestDto, CreateCameraDto, UpdateCameraDto } from './dto/camera.dto';
import type { CameraEntity } from './entities/camera.entity';
import { isEventMode, type RecordMode } from './record-mode';
import { streamUrlsRefusal } from './stream-url-guard';
import { buildStreamUrl, liveUrl, recordUrl, validateUrlTemplate } from './vendor-templates';

export interface RecordTarget {
  id: string;
  enabled: boolean;
  recordEnabled: boolean;
  recordUrl: string | null;
  /** What the recorder's ffmpeg must never print (see cameraSecrets). */
  secrets: readonly string[];
  recordAudio: boolean;
  segmentSeconds: number;
  recordMode: RecordMode;
  /** The IANA zone schedules are read in: the camera's site's, else the server's. */
  timezone: string;
  /** Set when a sealed credential does not open (then `recordUrl` is null). */
  credentialsError?: string;
}

/**
 * What the kernel's loops need of a camera to decide what to do with it (the indexer, event
 * recording, the recorder's schedule check): no credential, nothing sealed. Served from memory
 * (CamerasService.getPolicy / listPolicies), reloaded after any camera or site change.
 */
export interface CameraPolicy {
  id: string;
  enabled: boolean;
  recordEnabled: boolean;
  recordMode: RecordMode;
  segmentSeconds: number;
  preRollSeconds: number;
  postRollSeconds: number;
  /** The IANA zone schedules are read in: the camera's site's, else the server's. */
  timezone: string;
}

/** Default segment length of a camera created in an event mode. */
export const EVENT_SEGMENT_SECONDS = 10;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const GIB = 1024 ** 3;

@Injectable()
export class CamerasService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Cameras');
  /** Every camera's policy, by id (null: to be read). Loaded in one read of cameras and sites;
   * dropped after each change, so a read begun before a change is never kept. */
  private policies: Promise<ReadonlyMap<string, CameraPolicy>> | null = null;
  private offRemote?: Unsubscribe;
  private offSites?: Unsubscribe;

  constructor(
    private readonly repo: CamerasRepository,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly events: EventsService,
    private readonly media: MediaService,
    private readonly probes: ProbeGovernor,
    private readonly deletionChecks: CameraDeletionChecks,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    private readonly bus: EventBus,
    private readonly caches: CacheInvalidation,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.resealLegacy();
  }

  onApplicationBootstrap(): void {
    // A camera changed through another node of the cluster (this node's own changes drop it at once).
    this.offRemote = this.bus.on(
      ['camera_created', 'camera_updated', 'camera_deleted'],
      (e) => {
        if (!e.remote) return;
        this.invalidatePolicies();
        if (e.eventType === 'camera_deleted' && e.cameraId) this.repo.forget(e.cameraId);
      },
      'camera-policies',
      { remote: true },
    );
    // A site changed (its time zone is every camera's schedule zone), here or on another node.
    this.offSites = this.caches.on(SITES_CACHE, () => this.invalidatePolicies(), 'camera-policies');
  }

  onApplicationShutdown(): void {
    this.offRemote?.();
    this.offSites?.();
  }

  /**
   * One-time upgrade (a no-op once done): credentials sealed before values were bound to their
   * row (`enc:v1:`) or stored plain are re-sealed as `enc:v2:` bound to `cameras.<column>:<id>`.
   */
  async resealLegacy(): Promise<number> {
    let resealed = 0;
    for (const cam of await this.repo.getAll()) {
      const patch: Partial<CameraEntity> = {};
      for (const field of Object.keys(CAMERA_SEALED_COLUMNS) as CameraSealedField[]) {
        const value = cam[field];
        if (!SecretBox.needsReseal(value)) continue;
        const aad = cameraAad(cam.id, field);
        try {
          patch[field] = this.box.seal(this.box.open(value, aad), aad);
        } catch (err) {
          this.logger.error({ err, cameraId: cam.id, field }, 'a legacy credential cannot be opened');
        }
      }
      if (Object.keys(patch).length === 0) continue;
      await this.repo.update(cam.id, patch);
      resealed++;
    }
    if (resealed > 0)
      this.logger.log(`re-sealed the credentials of ${resealed} camera(s), bound to their row`);
    return resealed;
  }

  async list(principal: Principal): Promise<CameraDto[]> {
    const rows = await this.repo.getAll(principal.cameraScope === 'all' ? undefined : principal.cameraScope);
    return rows.map((c) => toCameraDto(c, this.box));
  }

  async get(principal: Principal, id: string): Promise<CameraDto> {
    return toCameraDto(await this.load(principal, id, 'read it'), this.box);
  }

  /** Ids of every camera (kernel-internal: no scope). */
  /** What retention needs of every camera: name, retention hours, quota. */
  async retentionPolicies(): Promise<
    Array<{
      id: string;
      name: string;
      retentionHours: number;
      quotaBytes: number | null;
      recordMode: RecordMode;
    }>
  > {
    return (await this.repo.getAll()).map((c) => ({
      id: c.id,
      name: c.name,
      retentionHours: c.retentionHours,
      recordMode: c.recordMode,
      quotaBytes: c.storageQuotaBytes && c.storageQuotaBytes > 0 ? c.storageQuotaBytes : null,
    }));
  }

  /** Existence, name, site and enabled flag of a camera (ingest, samplers, metrics). */
  async lookup(
    id: string,
  ): Promise<{ id: string; name: string; siteId: string | null; enabled: boolean; priority: number } | null> {
    const c = await this.repo.get(id);
    return c ? { id: c.id, name: c.name, siteId: c.siteId, enabled: c.enabled, priority: c.priority } : null;
  }

  /** Id and name of every camera (metrics labels). */
  async listNames(): Promise<Array<{ id: string; name: string }>> {
    return (await this.repo.getAll()).map((c) => ({ id: c.id, name: c.name }));
  }

  /** Ids of the cameras that should be recording (enabled, with `record_enabled`). */
  async listRecordingExpectedIds(): Promise<string[]> {
    return (await this.repo.getAll()).filter((c) => c.enabled && c.recordEnabled).map((c) => c.id);
  }

  /** A camera's policy (no credential opened, served from memory); null when it does not exist. */
  async getPolicy(id: string): Promise<CameraPolicy | null> {
    return (await this.policyMap()).get(id) ?? null;
  }

  /** The policy of every camera, from memory (the loops read it every few seconds). */
  async listPolicies(): Promise<CameraPolicy[]> {
    return [...(await this.policyMap()).values()];
  }

  /** Forget the policies (after a camera or site change has committed): the next read reloads. */
  invalidatePolicies(): void {
    this.policies = null;
  }

  private policyMap(): Promise<ReadonlyMap<string, CameraPolicy>> {
    if (this.policies) return this.policies;
    const loading = this.loadPolicies();
    this.policies = loading;
    // A failed read is not kept (the next caller reads again); a change meanwhile already dropped it.
    loading.catch(() => {
      if (this.policies === loading) this.policies = null;
    });
    return loading;
  }

  private async loadPolicies(): Promise<ReadonlyMap<string, CameraPolicy>> {
    const [cams, sites] = await Promise.all([this.repo.getAll(), this.repo.getAllSites()]);
    const zones = new Map(sites.map((s) => [s.id, s.timezone]));
    return new Map(
      cams.map((c) => [
        c.id,
        {
          id: c.id,
          enabled: c.enabled,
          recordEnabled: c.recordEnabled,
          recordMode: c.recordMode,
          segmentSeconds: c.segmentSeconds,
          preRollSeconds: c.preRollSeconds,
          postRollSeconds: c.postRollSeconds,
          timezone: (c.siteId && zones.get(c.siteId)) || serverTimeZone(),
        },
      ]),
    );
  }

  async listIds(): Promise<string[]> {
    return (await this.repo.getAll()).map((c) => c.id);
  }

  /** What the recorder needs of a camera, with the decrypted record URL (kernel-internal: never
   * return it to a client). Null when the camera does not exist. */
  async getRecordTarget(id: string): Promise<RecordTarget | null> {
    const cam = await this.repo.get(id);
    if (!cam) return null;
    const site = cam.siteId ? await this.repo.getSite(cam.siteId) : null;
    return this.recordTarget(cam, site?.timezone);
  }

  /** The record target of every camera, in one read (the recorder at boot). */
  async listRecordTargets(): Promise<RecordTarget[]> {
    const zones = new Map((await this.repo.getAllSites()).map((s) => [s.id, s.timezone]));
    return (await this.repo.getAll()).map((c) =>
      this.recordTarget(c, c.siteId ? zones.get(c.siteId) : undefined),
    );
  }

  private recordTarget(cam: CameraEntity, siteZone: string | undefined): RecordTarget {
    const target = {
      id: cam.id,
      enabled: cam.enabled,
      recordEnabled: cam.recordEnabled,
      recordAudio: cam.recordAudio,
      segmentSeconds: cam.segmentSeconds,
      recordMode: cam.recordMode,
      timezone: siteZone || serverTimeZone(),
    };
    try {
      const input = urlInput(cam, this.box);
      return { ...target, recordUrl: recordUrl(input), secrets: cameraSecrets(input) };
    } catch (err) {
      if (!(err instanceof CameraCredentialsUnreadable)) throw err;
      return { ...target, recordUrl: null, secrets: [], credentialsError: err.message };
    }
  }

  /** A profile's stream URL and its secrets (kernel-internal): `sub` falls back to main; `main` is
   * the main stream. */
  async getStreamUrl(id: string, profile: 'main' | 'sub'): Promise<CameraSource | null> {
    const cam = await this.repo.get(id);
    if (!cam) return null;
    const input = urlInput(cam, this.box);
    const url = profile === 'main' ? buildStreamUrl(input, 'main') : liveUrl(input);
    return url === null ? null : { url, secrets: cameraSecrets(input) };
  }

  /** Decrypted live URL (sub stream, else main) and its secrets — kernel-internal, never returned
   * to a client. */
  async getLiveUrl(id: string): Promise<CameraSource | null> {
    const cam = await this.repo.get(id);
    if (!cam) return null;
    const input = urlInput(cam, this.box);
    const url = liveUrl(input);
    return url === null ? null : { url, secrets: cameraSecrets(input) };
  }

  /** Existence check after the scope check, for other modules' camera-keyed routes. */
  async assertVisible(principal: Principal, id: string, action: string): Promise<void> {
    assertCameraScope(principal, id, action);
    if (!(await this.repo.exists(id))) throw new CameraNotFound(id);
  }

  async create(principal: Principal, dto: CreateCameraDto): Promise<CameraDto> {
    const id = slugify(dto.id?.trim() || dto.name);
    assertCameraScope(principal, id, 'create it'); // scope before existence
    const tplError = dto.url_template ? validateUrlTemplate(dto.url_template) : null;
    if (tplError) throw new BadRequestError(`url_template: ${tplError}`, 'VALIDATION_FAILED');
    await this.assertSite(dto.site_id);
    const now = this.clock.nowIso();
    const quotaDefault = this.config.defaultCameraQuotaGb > 0 ? this.config.defaultCameraQuotaGb * GIB : null;
    const row: CameraEntity = {
      id,
      siteId: dto.site_id ?? null,
      name: dto.name.trim(),
      vendor: dto.vendor ?? 'generic',
      model: dto.model ?? null,
      address: dto.address ?? null,
      rtspPort: dto.rtsp_port ?? null,
      channel: dto.channel ?? 1,
      username: dto.username || null,
      password: this.box.sealNullable(dto.password, cameraAad(id, 'password')),
      mainStreamUrl: this.box.sealNullable(dto.main_stream_url, cameraAad(id, 'mainStreamUrl')),
      subStreamUrl: this.box.sealNullable(dto.sub_stream_url, cameraAad(id, 'subStreamUrl')),
      urlTemplate: this.box.sealNullable(dto.url_template, cameraAad(id, 'urlTemplate')),
      recordStream: dto.record_stream ?? 'main',
      recordEnabled: dto.record_enabled ?? true,
      recordMode: dto.record_mode ?? 'continuous',
      preRollSeconds: dto.pre_roll_seconds ?? 10,
      postRollSeconds: dto.post_roll_seconds ?? 30,
      // Event cameras keep whole segments around a trigger: short ones keep the pre-roll tight.
      segmentSeconds: clamp(
        dto.segment_seconds ??
          (isEventMode(dto.record_mode ?? 'continuous')
            ? EVENT_SEGMENT_SECONDS
            : this.config.defaultSegmentSeconds),
        2,
        3600,
      ),
      retentionHours: clamp(dto.retention_hours ?? this.config.defaultRetentionHours, 1, 43800),
      storageQuotaBytes:
        dto.storage_quota_bytes === undefined ? quotaDefault : dto.storage_quota_bytes || null,
      recordAudio: dto.record_audio ?? this.config.defaultRecordAudio,
      enabled: dto.enabled ?? true,
      priority: dto.priority ?? 100,
      createdAt: now,
      updatedAt: now,
    };
    this.assertStreamUrls(row);
    await this.repo.transaction(async () => {
      if (await this.repo.get(id))
        throw new ConflictError(`camera \`${id}\` already exists`, 'CAMERA_EXISTS');
      await this.repo.insert(row);
      await this.audit.record(principal, 'create_camera', 'camera', id, {
        name: row.name,
        vendor: row.vendor,
      });
      await this.events.emit({ type: 'camera_created', cameraId: id, payload: { name: row.name } });
    });
    this.invalidatePolicies();
    return toCameraDto(row, this.box);
  }

  async update(principal: Principal, id: string, dto: UpdateCameraDto): Promise<CameraDto> {
    const tplError = dto.url_template ? validateUrlTemplate(dto.url_template) : null;
    if (tplError) throw new BadRequestError(`url_template: ${tplError}`, 'VALIDATION_FAILED');
    const patch: Partial<CameraEntity> = {};
    const set = <K extends keyof CameraEntity>(k: K, v: CameraEntity[K] | undefined) => {
      if (v !== undefined) patch[k] = v;
    };
    if (dto.name !== undefined) set('name', dto.name.trim());
    set('siteId', dto.site_id);
    set('vendor', dto.vendor);
    set('model', dto.model);
    set('address', dto.address);
    set('rtspPort', dto.rtsp_port);
    set('channel', dto.channel);
    if (dto.username !== undefined) set('username', dto.username || null);
    if (dto.password !== undefined)
      set('password', this.box.sealNullable(dto.password, cameraAad(id, 'password')));
    if (dto.main_stream_url !== undefined)
      set('mainStreamUrl', this.box.sealNullable(dto.main_stream_url, cameraAad(id, 'mainStreamUrl')));
    if (dto.sub_stream_url !== undefined)
      set('subStreamUrl', this.box.sealNullable(dto.sub_stream_url, cameraAad(id, 'subStreamUrl')));
    if (dto.url_template !== undefined)
      set('urlTemplate', this.box.sealNullable(dto.url_template, cameraAad(id, 'urlTemplate')));
    set('recordStream', dto.record_stream);
    set('recordEnabled', dto.record_enabled);
    set('recordMode', dto.record_mode);
    set('preRollSeconds', dto.pre_roll_seconds);
    set('postRollSeconds', dto.post_roll_seconds);
    if (dto.segment_seconds !== undefined) set('segmentSeconds', clamp(dto.segment_seconds, 2, 3600));
    if (dto.retention_hours !== undefined) set('retentionHours', clamp(dto.retention_hours, 1, 43800));
    if (dto.storage_quota_bytes !== undefined) set('storageQuotaBytes', dto.storage_quota_bytes || null);
    set('recordAudio', dto.record_audio);
    set('enabled', dto.enabled);
    set('priority', dto.priority);
    // Field names only: values may be credentials.
    const changed = Object.keys(dto).filter((k) => (dto as Record<string, unknown>)[k] !== undefined);

    const updated = await this.repo.transaction(async () => {
      const current = await this.load(principal, id, 'change it');
      this.assertStreamUrls({ ...current, ...patch });
      if (dto.site_id) await this.assertSite(dto.site_id);
      await this.repo.update(id, { ...patch, updatedAt: this.clock.nowIso() });
      await this.audit.record(principal, 'update_camera', 'camera', id, { fields: changed });
      await this.events.emit({ type: 'camera_updated', cameraId: id, payload: { fields: changed } });
      return (await this.repo.get(id))!;
    });
    this.invalidatePolicies();
    return toCameraDto(updated, this.box);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.repo.transaction(async () => {
      await this.load(principal, id, 'delete it');
      const objection = await this.deletionChecks.objection(id);
      if (objection) throw new ConflictError(objection, 'CAMERA_HAS_EVIDENCE');
      await this.repo.delete(id);
      await this.audit.record(principal, 'delete_camera', 'camera', id);
      await this.events.emit({ type: 'camera_deleted', cameraId: id, severity: 'info' });
    });
    this.invalidatePolicies();
  }

  /** ffprobe the record URL → reachability, codec and size; no credential in any answer. */
  async test(principal: Principal, id: string): Promise<CameraTestDto> {
    const cam = await this.load(principal, id, 'test it');
    const input = urlInput(cam, this.box);
    const url = recordUrl(input);
    if (!url) {
      throw new BadRequestError(
        `camera \`${id}\` has no ${cam.recordStream} stream URL: set ${cam.recordStream}_stream_url, an address with a vendor template, or url_template`,
        'NO_STREAM_URL',
      );
    }
    const secrets = cameraSecrets(input);
    const shown = maskCameraUrl(input, cam.recordStream, url, secrets);
    // Bounded: each probe is an ffprobe child that may hang until its timeout. With auth off every
    // request is the one system principal: only the global limit applies (as for clip quotas).
    const caller = principal.kind === 'system' ? null : `${principal.kind}:${principal.id}`;
    const res = await this.probes.run(caller, () =>
      this.media.probe(url, this.config.cameraTestTimeoutMs, secrets),
    );
    if (!res.ok) return { reachable: false, error: res.error, url: shown };
    return {
      reachable: true,
      codec: res.codec,
      width: res.width,
      height: res.height,
      fps: res.fps,
      url: shown,
    };
  }

  private async load(principal: Principal, id: string, action: string): Promise<CameraEntity> {
    assertCameraScope(principal, id, action);
    const cam = await this.repo.get(id);
    if (!cam) throw new CameraNotFound(id);
    return cam;
  }

  /** http(s) sources must not point at link-local or metadata addresses (see streamUrlsRefusal). */
  private assertStreamUrls(cam: CameraEntity): void {
    const why = streamUrlsRefusal(urlInput(cam, this.box));
    if (why) throw new BadRequestError(why, 'VALIDATION_FAILED');
  }

  private async assertSite(siteId: string | null | undefined): Promise<void> {
    if (siteId && !(await this.repo.getSite(siteId))) {
      throw new BadRequestError(
        `site \`${siteId}\` does not exist (create it with POST /api/v1/sites)`,
        'SITE_NOT_FOUND',
      );
    }
  }
}
