import 'reflect-metadata';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { decodeSecretKey } from '../common/secret-box';

/** Environment variable behind each config field (also the order of `.env.example`). */
const ENV_NAMES = {
  databaseUrl: 'HELDAR_DATABASE_URL',
  dbMaxConnections: 'HELDAR_DB_MAX_CONNECTIONS',
  dataDir: 'HELDAR_DATA_DIR',
  recordingsDir: 'HELDAR_RECORDINGS_DIR',
  ffmpegBin: 'HELDAR_FFMPEG_BIN',
  ffprobeBin: 'HELDAR_FFPROBE_BIN',
  logLevel: 'HELDAR_LOG',
  apiHost: 'HELDAR_API_HOST',
  apiPort: 'HELDAR_API_PORT',
  corsOrigins: 'HELDAR_CORS_ORIGINS',
  httpRequestTimeoutS: 'HELDAR_HTTP_REQUEST_TIMEOUT_S',
  authEnabled: 'HELDAR_AUTH_ENABLED',
  secretKey: 'HELDAR_SECRET_KEY',
  deploymentMode: 'HELDAR_DEPLOYMENT_MODE',
  siteId: 'HELDAR_SITE_ID',
  defaultSegmentSeconds: 'HELDAR_DEFAULT_SEGMENT_SECONDS',
  defaultRetentionHours: 'HELDAR_DEFAULT_RETENTION_HOURS',
  defaultCameraQuotaGb: 'HELDAR_DEFAULT_CAMERA_QUOTA_GB',
  defaultRecordAudio: 'HELDAR_DEFAULT_RECORD_AUDIO',
  cameraTestTimeoutMs: 'HELDAR_CAMERA_TEST_TIMEOUT_MS',
  probeConcurrency: 'HELDAR_PROBE_CONCURRENCY',
  probeConcurrencyPerPrincipal: 'HELDAR_PROBE_CONCURRENCY_PER_PRINCIPAL',
  sessionTtlHours: 'HELDAR_SESSION_TTL_HOURS',
  sessionIdleTimeoutMin: 'HELDAR_SESSION_IDLE_TIMEOUT_MIN',
  authCookieSecure: 'HELDAR_AUTH_COOKIE_SECURE',
  loginMaxFailures: 'HELDAR_LOGIN_MAX_FAILURES',
  loginLockoutMin: 'HELDAR_LOGIN_LOCKOUT_MIN',
  loginRateLimitPerMin: 'HELDAR_LOGIN_RATE_LIMIT_PER_MIN',
  bootstrapAdminUser: 'HELDAR_BOOTSTRAP_ADMIN_USER',
  bootstrapAdminPassword: 'HELDAR_BOOTSTRAP_ADMIN_PASSWORD',
  clipsDir: 'HELDAR_CLIPS_DIR',
  mediaJobConcurrency: 'HELDAR_MEDIA_JOB_CONCURRENCY',
  clipsMaxBytes: 'HELDAR_CLIPS_MAX_BYTES',
  clipsMaxBytesPerPrincipal: 'HELDAR_CLIPS_MAX_BYTES_PER_PRINCIPAL',
  recorderEnabled: 'HELDAR_RECORDER_ENABLED',
  indexerIntervalS: 'HELDAR_INDEXER_INTERVAL_S',
  healthIntervalS: 'HELDAR_HEALTH_INTERVAL_S',
  retentionIntervalS: 'HELDAR_RETENTION_INTERVAL_S',
  maxRecordingsGb: 'HELDAR_MAX_RECORDINGS_GB',
  minFreeDiskGb: 'HELDAR_MIN_FREE_DISK_GB',
  clipRetentionHours: 'HELDAR_CLIP_RETENTION_HOURS',
  snapshotRetentionHours: 'HELDAR_SNAPSHOT_RETENTION_HOURS',
  detectionRetentionHours: 'HELDAR_DETECTION_RETENTION_HOURS',
  auditRetentionDays: 'HELDAR_AUDIT_RETENTION_DAYS',
  auditHeadEvery: 'HELDAR_AUDIT_HEAD_EVERY',
  webhookRetryScheduleS: 'HELDAR_WEBHOOK_RETRY_SCHEDULE_S',
  webhookTimeoutMs: 'HELDAR_WEBHOOK_TIMEOUT_MS',
  webhookConcurrency: 'HELDAR_WEBHOOK_CONCURRENCY',
  webhookSubscriptionConcurrency: 'HELDAR_WEBHOOK_SUBSCRIPTION_CONCURRENCY',
  webhookFailingAfter: 'HELDAR_WEBHOOK_FAILING_AFTER',
  moduleHealthIntervalS: 'HELDAR_MODULE_HEALTH_INTERVAL_S',
  moduleProxyTimeoutMs: 'HELDAR_MODULE_PROXY_TIMEOUT_MS',
  aiDefaultFps: 'HELDAR_AI_DEFAULT_FPS',
  aiDefaultWidth: 'HELDAR_AI_DEFAULT_WIDTH',
  aiEnabled: 'HELDAR_AI_ENABLED',
  aiMaxTotalFps: 'HELDAR_AI_MAX_TOTAL_FPS',
  mediamtxApiUrl: 'HELDAR_MEDIAMTX_API_URL',
  mediamtxHlsBase: 'HELDAR_MEDIAMTX_HLS_BASE',
  mediamtxWebrtcBase: 'HELDAR_MEDIAMTX_WEBRTC_BASE',
  mediamtxRtspBase: 'HELDAR_MEDIAMTX_RTSP_BASE',
  liveviewTokenTtlSecs: 'HELDAR_LIVEVIEW_TOKEN_TTL_SECS',
  liveIdleCloseSecs: 'HELDAR_LIVE_IDLE_CLOSE_SECS',
  liveMaxPublishers: 'HELDAR_LIVE_MAX_PUBLISHERS',
  liveReconcileIntervalS: 'HELDAR_LIVE_RECONCILE_INTERVAL_S',
  maxPlaybackHours: 'HELDAR_MAX_PLAYBACK_HOURS',
  playbackSessionTtlS: 'HELDAR_PLAYBACK_SESSION_TTL_S',
  playbackRemuxCacheMb: 'HELDAR_PLAYBACK_REMUX_CACHE_MB',
  overlayEnabled: 'HELDAR_OVERLAY_ENABLED',
  overlayKind: 'HELDAR_OVERLAY_KIND',
  overlayIface: 'HELDAR_OVERLAY_IFACE',
  readyzMinRecordingPercent: 'HELDAR_READYZ_MIN_RECORDING_PERCENT',
  nodeId: 'HELDAR_NODE_ID',
  nodeUrl: 'HELDAR_NODE_URL',
  nodeMaxCameras: 'HELDAR_NODE_MAX_CAMERAS',
  storageShared: 'HELDAR_STORAGE_SHARED',
} as const satisfies Record<string, `HELDAR_${string}`>;

export type ConfigKey = keyof typeof ENV_NAMES;

const BOOL_TRUE = new Set(['1', 'true', 'yes', 'on']);
const BOOL_FALSE = new Set(['0', 'false', 'no', 'off']);

/**
 * Typed configuration, parsed once at boot from `HELDAR_*` variables (and `.env`).
 * Unlike the reference (which silently falls back on unparseable numbers), every invalid
 * variable fails the boot, all of them listed in one message.
 */
export class HeldarConfig {
  /** `sqlite://<path>` (default) or `postgres://user:pass@host:port/db`. */
  @Matches(/^(sqlite:\/\/.+|postgres(ql)?:\/\/.+)$/, {
    message: 'must be sqlite://<path> or postgres://user:pass@host:port/db',
  })
  databaseUrl = 'sqlite://./data/heldar.db';

  /** PostgreSQL pool size (SQLite uses one connection with WAL). */
  @IsInt() @Min(2) @Max(256) dbMaxConnections = 16;

  @IsString() dataDir = './data';
  @IsOptional() @IsString() recordingsDir?: string;
  @IsString() ffmpegBin = 'ffmpeg';
  @IsString() ffprobeBin = 'ffprobe';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  logLevel = 'info';

  @IsString() apiHost = '0.0.0.0';
  @IsInt() @Min(0) @Max(65535) apiPort = 8080;

  /** A client must send its whole request (headers and body) within this; slow-loris senders get 408. */
  @IsInt() @Min(1) @Max(3600) httpRequestTimeoutS = 60;

  /** Comma list; empty = same-origin only (no CORS headers); `*` = any origin. */
  @IsString() corsOrigins = '';

  @IsBoolean() authEnabled = false;

  /** base64 of 32 bytes; when unset a key is generated into `<data>/secret.key` (mode 0600). */
  @IsOptional() @IsString() secretKey?: string;

  @IsIn(['', 'development', 'production']) deploymentMode = '';
  @IsOptional() @IsString() siteId?: string;

  @IsInt() @Min(2) @Max(3600) defaultSegmentSeconds = 60;
  @IsInt() @Min(1) @Max(43800) defaultRetentionHours = 24;
  @IsInt() @Min(0) defaultCameraQuotaGb = 0;
  @IsBoolean() defaultRecordAudio = false;
  @IsInt() @Min(1000) @Max(120000) cameraTestTimeoutMs = 12000;
  /** Camera test probes (ffprobe) at once, all callers; beyond it (or the per-caller limit) 503. */
  @IsInt() @Min(1) @Max(64) probeConcurrency = 4;
  @IsInt() @Min(1) @Max(64) probeConcurrencyPerPrincipal = 2;

  /** Absolute session lifetime (and cookie Max-Age). */
  @IsInt() @Min(1) @Max(8760) sessionTtlHours = 12;
  /** Sessions unused this long end; 0 = no idle timeout. */
  @IsInt() @Min(0) @Max(10080) sessionIdleTimeoutMin = 0;
  @IsBoolean() authCookieSecure = false;
  /** Per-account lockout after this many failed logins (0 disables). */
  @IsInt() @Min(0) @Max(100) loginMaxFailures = 5;
  @IsInt() @Min(0) @Max(1440) loginLockoutMin = 15;
  /** Login attempts per client IP per minute (0 disables). */
  @IsInt() @Min(0) @Max(10000) loginRateLimitPerMin = 20;
  @IsOptional() @IsString() bootstrapAdminUser?: string;
  @IsOptional()
  @IsString()
  @MinLength(8, { message: 'must be at least 8 characters' })
  bootstrapAdminPassword?: string;

  @IsOptional() @IsString() clipsDir?: string;
  /** Clip/snapshot jobs at once; a request waiting longer than 10 s gets 503. */
  @IsInt() @Min(1) @Max(64) mediaJobConcurrency = 3;
  /** Bytes all exported clips may take (0 = no limit); a clip that would exceed it is refused (409). */
  @IsInt() @Min(0) clipsMaxBytes = 10 * 1024 ** 3;
  /** Bytes the clips one user or key exported may take (0 = no limit). */
  @IsInt() @Min(0) clipsMaxBytesPerPrincipal = 2 * 1024 ** 3;

  /** Master switch for the recorders (cameras are still registered and probed when off). */
  @IsBoolean() recorderEnabled = true;
  /** How often the indexer scans the recordings directories (seconds). */
  @IsInt() @Min(1) @Max(3600) indexerIntervalS = 3600;
  /** How often stale recorders are detected (seconds). */
  @IsInt() @Min(1) @Max(3600) healthIntervalS = 15;

  /** Retention sweep cadence (seconds); orphan files are reclaimed about hourly. */
  @IsInt() @Min(30) @Max(86400) retentionIntervalS = 300;
  /** Cap on all recordings (GiB; 0 = none); `PUT /api/v1/system/retention` overrides it. */
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) maxRecordingsGb = 20;
  /** Free space kept on the recordings volume (GiB; 0 = none); overridable like the cap. */
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) minFreeDiskGb = 5;
  @IsInt() @Min(1) @Max(87600) clipRetentionHours = 48;
  /** JPEGs taken by snapshot schedules (rows and files). */
  @IsInt() @Min(1) @Max(87600) snapshotRetentionHours = 168;
  /** Detections, outbox, zone events. */
  @IsInt() @Min(1) @Max(87600) detectionRetentionHours = 168;
  /** Audit log (kept verifiable by a checkpoint), events, deliveries, gaps, recorder runs. */
  @IsInt() @Min(1) @Max(36500) auditRetentionDays = 365;
  /** An `audit_head` event (the chain's newest seq and hash, to pin outside) every this many audit
   * rows, besides the daily one (0 = daily only). */
  @IsInt() @Min(0) @Max(1_000_000_000) auditHeadEvery = 1000;

  /** Seconds before each retry of a failed webhook delivery; after the last one it is `dead`. */
  @Matches(/^\d+(\.\d+)?(,\d+(\.\d+)?){0,19}$/, { message: 'must be a comma list of seconds, e.g. 5,30,120' })
  webhookRetryScheduleS = '5,30,120,600,3600,21600';
  @IsInt() @Min(100) @Max(120000) webhookTimeoutMs = 10000;
  /** Deliveries in flight at once (all subscriptions). Sending is bound by round trips, not CPU:
   * at 64 a burst to 5 receivers queued behind 64 sockets with the kernel idle 9 % of the time. */
  @IsInt() @Min(1) @Max(1024) webhookConcurrency = 128;
  /** Deliveries in flight at once to one subscription (a slow receiver holds no more than this). */
  @IsInt() @Min(1) @Max(1024) webhookSubscriptionConcurrency = 16;
  /** Consecutive failed attempts before `webhook_failing` is raised. */
  @IsInt() @Min(1) @Max(1000) webhookFailingAfter = 5;

  /** How often each sidecar's `/heldar/health` is probed (seconds). */
  @IsInt() @Min(1) @Max(3600) moduleHealthIntervalS = 30;
  /** Deadline of a proxied `/m/{id}/*` request (ms). */
  @IsInt() @Min(1000) @Max(600000) moduleProxyTimeoutMs = 30000;

  /** Sampling of a new AI task when the request does not say (fps 0.1..30, width 160..3840). */
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0.1) @Max(30) aiDefaultFps = 5;
  @IsInt() @Min(160) @Max(3840) aiDefaultWidth = 1280;
  /** Master switch of the frame samplers. */
  @IsBoolean() aiEnabled = true;
  /** Frames per second decoded by all samplers together (at full width), shared by priority. */
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(1) @Max(10000) aiMaxTotalFps = 40;

  /** MediaMTX control API (v3). Unset: live view uses the built-in HLS publisher. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, {
    message: 'must be an http(s) URL, e.g. http://127.0.0.1:9997',
  })
  mediamtxApiUrl?: string;
  /** Client URL bases of MediaMTX's servers; a loopback host is rewritten to the request's Host. */
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http(s) URL' })
  mediamtxHlsBase = 'http://127.0.0.1:8888';
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http(s) URL' })
  mediamtxWebrtcBase = 'http://127.0.0.1:8889';
  @Matches(/^rtsps?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an rtsp(s) URL' })
  mediamtxRtspBase = 'rtsp://127.0.0.1:8554';
  /** Lifetime of a live-view token (seconds). */
  @IsInt() @Min(30) @Max(86400) liveviewTokenTtlSecs = 3600;
  /** A built-in HLS publisher nobody has requested for this long is stopped (seconds). */
  @IsInt() @Min(5) @Max(86400) liveIdleCloseSecs = 60;
  /** Built-in HLS publishers running at once (each is one stream-copy ffmpeg). */
  @IsInt() @Min(1) @Max(1024) liveMaxPublishers = 32;
  /** Longest time range one playback session may span (hours). */
  @IsInt() @Min(1) @Max(168) maxPlaybackHours = 24;
  /** A playback session nobody has requested anything of for this long is closed (seconds). */
  @IsInt() @Min(10) @Max(86400) playbackSessionTtlS = 600;
  /** Bound of the playback remux cache (fragmented copies of recorded files that are not), MiB. */
  @IsInt() @Min(1) @Max(1_048_576) playbackRemuxCacheMb = 2048;
  /** With MediaMTX: how often paths of deleted/disabled cameras are removed and sources re-checked. */
  @IsInt() @Min(5) @Max(86400) liveReconcileIntervalS = 30;

  /** Remote-access overlay the kernel observes (never manages). */
  @IsBoolean() overlayEnabled = false;
  @IsIn(['none', 'wireguard', 'tailscale', 'netbird']) overlayKind = 'none';
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,15}$/, { message: 'must be a network interface name' })
  overlayIface?: string;

  /** `/readyz` answers 503 while fewer than this % of the cameras that should record are recording. */
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(100) readyzMinRecordingPercent = 0;

  /**
   * This kernel among the nodes sharing one PostgreSQL (cluster); default: the host name, reduced
   * to the characters an id may hold. SQLite is single-node.
   */
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
    message: 'must be 1 to 63 letters, digits, _ . or -, starting with a letter or digit',
  })
  nodeId = defaultNodeId();
  /** How the other nodes reach this one (http(s) URL); default `http://<host name>:<api port>`. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http(s) URL' })
  nodeUrl?: string;
  /** Cameras this node records at most (cluster: it takes free cameras up to this). */
  @IsInt() @Min(1) @Max(10_000) nodeMaxCameras = 256;
  /** All nodes mount the same recordings volume (e.g. NFS); otherwise each node serves its own. */
  @IsBoolean() storageShared = false;

  get webhookRetryDelaysS(): number[] {
    return this.webhookRetryScheduleS.split(',').map(Number);
  }

  get isSqlite(): boolean {
    return this.databaseUrl.startsWith('sqlite:');
  }

  /** Absolute path of the SQLite file (`sqlite://./data/heldar.db` → `<cwd>/data/heldar.db`). */
  get sqlitePath(): string {
    const p = this.databaseUrl.replace(/^sqlite:\/\//, '');
    return p === ':memory:' ? p : resolve(p);
  }

  get dataDirAbs(): string {
    return resolve(this.dataDir);
  }

  get recordingsDirAbs(): string {
    return resolve(this.recordingsDir ?? `${this.dataDir}/recordings`);
  }

  get liveDirAbs(): string {
    return resolve(this.dataDir, 'live');
  }

  get framesDirAbs(): string {
    return resolve(this.dataDir, 'frames');
  }

  get clipsDirAbs(): string {
    return resolve(this.clipsDir ?? `${this.dataDir}/clips`);
  }

  get corsOriginList(): string[] {
    return this.corsOrigins
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }

  get secretKeyFile(): string {
    return resolve(this.dataDir, 'secret.key');
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function coerce(defaultValue: unknown, raw: string): unknown {
  if (typeof defaultValue === 'number') {
    return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw; // a non-number fails @IsInt with the raw text
  }
  if (typeof defaultValue === 'boolean') {
    const v = raw.toLowerCase();
    if (BOOL_TRUE.has(v)) return true;
    if (BOOL_FALSE.has(v)) return false;
    return raw;
  }
  return raw;
}

function describe(errors: ValidationError[]): string[] {
  return errors.map((e) => {
    const name = ENV_NAMES[e.property as ConfigKey] ?? e.property;
    const secret = name === ENV_NAMES.secretKey || name === ENV_NAMES.bootstrapAdminPassword;
    const shown = secret ? '(hidden)' : JSON.stringify(e.value);
    return `${name}=${shown}: ${Object.values(e.constraints ?? {}).join('; ')}`;
  });
}

/** Parse and validate `env`; throws ConfigError listing every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HeldarConfig {
  const cfg = new HeldarConfig();
  const target = cfg as unknown as Record<string, unknown>;
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue; // empty = unset
    const value = raw.trim();
    target[key] = key in target && target[key] !== undefined ? coerce(target[key], value) : value;
  }
  const problems = describe(validateSync(cfg, { forbidUnknownValues: false }));
  if (cfg.secretKey) {
    const key = decodeSecretKey(cfg.secretKey);
    if (typeof key === 'string') problems.push(`${ENV_NAMES.secretKey}=(hidden): ${key}`);
  }
  if (cfg.deploymentMode === 'production' && !cfg.authEnabled) {
    problems.push(
      `${ENV_NAMES.deploymentMode}=production requires ${ENV_NAMES.authEnabled}=true (refusing to serve an open admin API)`,
    );
  }
  if (cfg.bootstrapAdminPassword && !cfg.bootstrapAdminUser) {
    problems.push(`${ENV_NAMES.bootstrapAdminPassword} is set but ${ENV_NAMES.bootstrapAdminUser} is not`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}

export function envNameOf(key: ConfigKey): string {
  return ENV_NAMES[key];
}

/** The host name as a node id: characters an id may not hold become `-`; `node` if none is left. */
export function defaultNodeId(host: string = hostname()): string {
  const id = host
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63);
  return id || 'node';
}
