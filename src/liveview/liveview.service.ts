import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { isIP } from 'node:net';
import { ViewAudit } from '../audit/view-audit';
import { hasCapability, type Principal } from '../auth/principal';
import { PrincipalResolver } from '../auth/principal-resolver';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { BadRequestError, CameraNotFound, ForbiddenError } from '../common/errors';
import { Loops } from '../common/loops';
import { SecretBox } from '../common/secret-box';
import { HeldarConfig } from '../config/heldar-config';
import { EventBus, type Unsubscribe } from '../events/event-bus';
import { HlsPublisherService } from './hls-publisher.service';
import {
  LIVE_PATH_PREFIX,
  livePathName,
  type LiveTokenClaims,
  signLiveToken,
  tokenFromQuery,
  verifyLiveToken,
} from './live-token';
import { MediaMtxClient, type MediaMtxPathConf } from './mediamtx.client';
import { KeyedSerialQueue } from '../common/validation';

export interface LiveViewDto {
  /** The MediaMTX path (`cam_<id>`), also the built-in publisher's name. */
  name: string;
  mode: 'mediamtx' | 'builtin';
  hls_url: string;
  /** WHEP endpoint (POST the browser's SDP offer here); MediaMTX only. */
  webrtc_url: string | null;
  rtsp_url: string | null;
  token: string;
  expires_at: string;
  /** Built-in: the playlist exists already. MediaMTX: the path is configured (the source is pulled on demand). */
  ready: boolean;
}

/** The MediaMTX auth callback body (`authMethod: http`). */
export interface MediaMtxAuthRequest {
  user?: unknown;
  password?: unknown;
  token?: unknown;
  ip?: unknown;
  action?: unknown;
  path?: unknown;
  protocol?: unknown;
  id?: unknown;
  query?: unknown;
}

const REAP_MS = 5_000;
const RECONCILE_ON = ['camera_updated', 'camera_deleted'] as const;

/** Loopback (v4, v6 and v4-mapped). */
export function isLoopback(ip: string): boolean {
  const v = ip.replace(/^::ffff:/i, '');
  return v === '::1' || /^127\./.test(v);
}

/** LAN-ish clients allowed to read without a token while auth is off (as the reference). */
export function isPrivateAddress(ip: string): boolean {
  const v = ip.replace(/^::ffff:/i, '');
  if (isIP(v) === 4) {
    const [a, b] = v.split('.').map(Number);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
      (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127); // prettier-ignore
  }
  if (isIP(v) === 6) return v === '::1' || /^f[cd]/i.test(v) || /^fe[89ab]/i.test(v);
  return false;
}

/**
 * Live view: brokers MediaMTX (a `cam_<id>` path pulling the camera's sub stream, else main, on
 * demand) when `HELDAR_MEDIAMTX_API_URL` is set, else the built-in HLS publisher. Clients get URLs
 * carrying a short-lived viewer token — never the camera's URL or credentials. MediaMTX asks
 * `authorize()` about every reader; the built-in files are checked the same way.
 */
@Injectable()
export class LiveviewService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Liveview');
  private readonly key: Buffer;
  private readonly chains = new KeyedSerialQueue();
  private off?: Unsubscribe;

  constructor(
    private readonly cameras: CamerasService,
    private readonly mediamtx: MediaMtxClient,
    private readonly hls: HlsPublisherService,
    private readonly resolver: PrincipalResolver,
    private readonly loops: Loops,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly views: ViewAudit,
    box: SecretBox,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {
    this.key = box.deriveKey('heldar-liveview-token-v1');
  }

  get mode(): 'mediamtx' | 'builtin' {
    return this.mediamtx.configured ? 'mediamtx' : 'builtin';
  }

  onApplicationBootstrap(): void {
    this.off = this.bus.on(
      RECONCILE_ON,
      (e) => {
        if (!e.cameraId) return;
        const id = e.cameraId;
        void this.serial(id, () => this.reconcileCamera(id)).catch((err: unknown) =>
          this.logger.warn({ err, cameraId: id }, 'live reconcile failed'),
        );
      },
      'liveview',
      // A reconcile converges on the camera's row (idempotent): a change made through any node.
      { remote: true },
    );
    if (this.mediamtx.configured)
      this.loops.start(
        'live_reconcile',
        this.config.liveReconcileIntervalS * 1000,
        () => this.reconcileAll(),
        {
          scope: 'cluster',
        },
      );
    else this.loops.start('live_reaper', REAP_MS, () => this.hls.reapIdle().then(() => undefined));
  }

  onModuleDestroy(): void {
    this.off?.();
  }

  /** Serialises work per camera (demand, reconcile), so MediaMTX sees one writer per path. */
  private serial<T>(cameraId: string, fn: () => Promise<T>): Promise<T> {
    return this.chains.run(cameraId, fn);
  }

  async liveview(p: Principal, cameraId: string, requestHost: string | undefined): Promise<LiveViewDto> {
    const cam = await this.cameras.lookup(cameraId);
    if (!cam) throw new CameraNotFound(cameraId);
    if (!cam.enabled) throw new BadRequestError(`camera \`${cameraId}\` is disabled`, 'CAMERA_DISABLED');
    const source = await this.cameras.getLiveUrl(cameraId);
    if (!source) {
      throw new BadRequestError(
        `camera \`${cameraId}\` has no stream URL (set main_stream_url, sub_stream_url or an address and vendor)`,
        'NO_STREAM_URL',
      );
    }
    const name = livePathName(cameraId);
    const exp = Math.floor(this.clock.nowMs() / 1000) + this.config.liveviewTokenTtlSecs;
    const token = signLiveToken(this.key, {
      path: name,
      kind: p.kind,
      subject: p.kind === 'system' ? 'system' : p.id,
      exp,
    });
    const q = `token=${encodeURIComponent(token)}`;
    const expiresAt = new Date(exp * 1000).toISOString();
    if (this.mediamtx.configured) {
      await this.serial(cameraId, () => this.ensurePath(name, source.url));
      await this.views.record(
        p,
        'view_live',
        cameraId,
        { type: 'camera', id: cameraId },
        { mode: 'mediamtx' },
      );
      const base = (b: string) => rewriteLoopbackHost(b, requestHost).replace(/\/+$/, '');
      return {
        name,
        mode: 'mediamtx',
        hls_url: `${base(this.config.mediamtxHlsBase)}/${name}/index.m3u8?${q}`,
        webrtc_url: `${base(this.config.mediamtxWebrtcBase)}/${name}/whep?${q}`,
        rtsp_url: `${base(this.config.mediamtxRtspBase)}/${name}?${q}`,
        token,
        expires_at: expiresAt,
        ready: true,
      };
    }
    const ready = await this.serial(cameraId, () => this.hls.demand(cameraId, source));
    await this.views.record(p, 'view_live', cameraId, { type: 'camera', id: cameraId }, { mode: 'builtin' });
    return {
      name,
      mode: 'builtin',
      hls_url: `/live/${name}/index.m3u8?${q}`,
      webrtc_url: null,
      rtsp_url: null,
      token,
      expires_at: expiresAt,
      ready,
    };
  }

  /** The path config the kernel wants for a camera: MediaMTX pulls the source when a reader comes. */
  static pathConf(url: string): MediaMtxPathConf {
    return {
      source: url,
      sourceOnDemand: true,
      ...(/^rtsps?:\/\//i.test(url) ? { rtspTransport: 'tcp' } : {}),
    };
  }

  /** Adds the path, or patches it when its source settings drifted (`have`: its config if already read). */
  private async ensurePath(name: string, url: string, known?: MediaMtxPathConf | null): Promise<void> {
    const want = LiveviewService.pathConf(url);
    const have = known === undefined ? await this.mediamtx.getPathConf(name) : known;
    if (!have) {
      await this.mediamtx.addPath(name, want);
      return;
    }
    const drift = Object.entries(want).some(([k, v]) => have[k] !== v);
    if (drift) await this.mediamtx.patchPath(name, want);
  }

  /** After a camera changed: drop its path/publisher when it is gone or disabled, follow a new source. */
  private async reconcileCamera(cameraId: string): Promise<void> {
    const cam = await this.cameras.lookup(cameraId);
    const url = cam?.enabled ? ((await this.cameras.getLiveUrl(cameraId))?.url ?? null) : null;
    const name = livePathName(cameraId);
    if (this.mediamtx.configured) {
      if (!url) {
        await this.mediamtx.deletePath(name);
        return;
      }
      const have = await this.mediamtx.getPathConf(name);
      if (have) await this.ensurePath(name, url, have); // a path nobody asked for yet is not created here
      return;
    }
    const running = this.hls.argsKeyOf(cameraId);
    if (running && (!url || running !== this.hls.argsKeyFor(cameraId, url))) await this.hls.stop(cameraId);
  }

  /** Every 30 s with MediaMTX: paths of deleted or disabled cameras are removed, sources kept current. */
  async reconcileAll(): Promise<void> {
    const names = await this.mediamtx.listPathNames();
    for (const name of names) {
      if (!name.startsWith(LIVE_PATH_PREFIX)) continue; // not ours
      const cameraId = name.slice(LIVE_PATH_PREFIX.length);
      await this.serial(cameraId, () => this.reconcileCamera(cameraId));
    }
  }

  /**
   * The MediaMTX auth callback. publish/api/metrics/pprof: loopback only (MediaMTX itself, the
   * kernel). read/playback: a valid token for that path whose subject still stands; with auth off,
   * also any LAN client. Everything else is denied.
   */
  async authorize(req: MediaMtxAuthRequest): Promise<boolean> {
    const str = (v: unknown) => (typeof v === 'string' ? v : '');
    const ip = str(req.ip);
    const action = str(req.action);
    const path = str(req.path);
    if (['publish', 'api', 'metrics', 'pprof'].includes(action))
      return isIP(ip.replace(/^::ffff:/i, '')) > 0 && isLoopback(ip);
    if (action !== 'read' && action !== 'playback') return false;
    if (!path.startsWith(LIVE_PATH_PREFIX)) return false;
    const token = str(req.token) || tokenFromQuery(str(req.query));
    const claims = verifyLiveToken(this.key, token, path, Math.floor(this.clock.nowMs() / 1000));
    if (claims) return this.subjectStands(claims, path.slice(LIVE_PATH_PREFIX.length));
    return !this.config.authEnabled && isPrivateAddress(ip);
  }

  /** Built-in files: the token must open this path for a subject that still stands (else 403). */
  async assertFileAccess(name: string, token: string | undefined): Promise<string> {
    const denied = () =>
      new ForbiddenError('a valid live-view token for this camera is required', 'LIVE_TOKEN_INVALID');
    if (!name.startsWith(LIVE_PATH_PREFIX)) throw denied();
    const claims = verifyLiveToken(this.key, token, name, Math.floor(this.clock.nowMs() / 1000));
    const cameraId = name.slice(LIVE_PATH_PREFIX.length);
    if (!claims || !(await this.subjectStands(claims, cameraId))) throw denied();
    return cameraId;
  }

  private async subjectStands(claims: LiveTokenClaims, cameraId: string): Promise<boolean> {
    const cam = await this.cameras.lookup(cameraId);
    if (!cam || !cam.enabled) return false;
    if (claims.kind === 'system') return !this.config.authEnabled; // minted while auth was off
    const p = await this.resolver.resolveSubject(claims.kind, claims.subject);
    return (
      !!p && hasCapability(p, 'video:live') && (p.cameraScope === 'all' || p.cameraScope.includes(cameraId))
    );
  }
}

/** A base URL whose host is loopback or 0.0.0.0 gets the host the client used (scheme and port kept). */
export function rewriteLoopbackHost(base: string, requestHost: string | undefined): string {
  if (!requestHost) return base;
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    return base;
  }
  const h = u.hostname.replace(/^\[|\]$/g, '');
  if (!(h === 'localhost' || h === '0.0.0.0' || h === '::' || isLoopback(h))) return base;
  const hostOnly = requestHost.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (!/^[A-Za-z0-9.-]{1,253}$/.test(hostOnly) && isIP(hostOnly) !== 6) return base; // a forged Host stays out
  u.hostname = isIP(hostOnly) === 6 ? `[${hostOnly}]` : hostOnly;
  return u.toString().replace(/\/$/, base.endsWith('/') ? '/' : '');
}
