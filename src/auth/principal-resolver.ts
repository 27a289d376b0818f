import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { Clock } from '../common/clock';
import { ForbiddenError, UnauthorizedError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';
import { AuthRepository } from './auth.repository';
import { type Capability, isCapability, ROLE_CAPABILITIES, ROLES } from './capabilities';
import type { ApiKeyEntity } from './entities/api-key.entity';
import type { UserEntity } from './entities/user.entity';
import { crossOriginRefusal, STATE_CHANGING_METHODS } from './origin-check';
import type { Principal } from './principal';
import { readCookie, sha256Hex } from './tokens';

export const SESSION_COOKIE = 'heldar_session';
/** last_used_at is written at most this often per credential. */
const TOUCH_EVERY_MS = 60_000;

export interface Credential {
  token: string;
  /** `cookie` is the ambient one a browser attaches by itself: only it needs the origin check. */
  source: 'bearer' | 'api_key' | 'cookie';
}

/** The credential a request carries: `Authorization: Bearer`, then `X-API-Key`, then the session cookie. */
export function extractCredential(req: Pick<Request, 'headers'>): Credential | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) {
    const token = auth.replace(/^bearer\s+/i, '').trim();
    return token ? { token, source: 'bearer' } : undefined;
  }
  const key = req.headers['x-api-key'];
  if (typeof key === 'string' && key.trim()) return { token: key.trim(), source: 'api_key' };
  const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
  return cookie ? { token: cookie, source: 'cookie' } : undefined;
}

export function extractToken(req: Pick<Request, 'headers'>): string | undefined {
  return extractCredential(req)?.token;
}

export function apiKeyCapabilities(key: Pick<ApiKeyEntity, 'role' | 'capabilities'>): Capability[] {
  if (key.capabilities) return key.capabilities.filter(isCapability);
  return [...(ROLE_CAPABILITIES[key.role] ?? [])];
}

/**
 * Resolves a request's credential into a Principal: `vok_` API keys by SHA-256, anything else as a
 * session token. Any failure is a 401; the reasons are logged, never told to the caller.
 */
@Injectable()
export class PrincipalResolver {
  private readonly logger = new Logger('Auth');
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly repo: AuthRepository,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  async resolve(req: Request): Promise<Principal> {
    const token = extractToken(req);
    if (!token) throw new UnauthorizedError('authentication required');
    const principal = token.startsWith('vok_') ? await this.fromApiKey(token) : await this.fromSession(token);
    if (!principal) throw new UnauthorizedError('invalid or expired credentials', 'INVALID_CREDENTIALS');
    return principal;
  }

  /**
   * CSRF: a state-changing request, or a WebSocket upgrade, authenticated by the session cookie
   * must come from this server's own origin or one in HELDAR_CORS_ORIGINS, else 403 ORIGIN_REFUSED
   * (SameSite=Strict does not stop a sibling origin: another port or subdomain is the same site).
   * Bearer and X-API-Key requests carry no ambient credential and are not judged.
   */
  assertOrigin(req: Pick<Request, 'method' | 'headers'>, opts: { upgrade?: boolean } = {}): void {
    if (!opts.upgrade && !STATE_CHANGING_METHODS.has(req.method ?? '')) return;
    if (extractCredential(req)?.source !== 'cookie') return;
    const why = crossOriginRefusal(req.headers, this.config.corsOriginList);
    if (!why) return;
    this.logger.warn({ method: req.method, why }, 'cross-origin request with the session cookie refused');
    throw new ForbiddenError(`cross-origin request refused: ${why}`, 'ORIGIN_REFUSED');
  }

  /**
   * The principal behind a credential id as it stands NOW (a revoked or expired key, a deactivated
   * or deleted user: null). Live-view tokens name their subject and are re-checked through this on
   * every use, so withdrawing a credential withdraws its live streams too.
   */
  async resolveSubject(kind: 'api_key' | 'user', id: string): Promise<Principal | null> {
    if (kind === 'api_key') {
      const key = await this.repo.getApiKey(id);
      return key ? this.keyPrincipal(key, this.clock.nowMs()) : null;
    }
    const user = await this.repo.getUser(id);
    return user ? this.userPrincipal(user) : null;
  }

  private async fromApiKey(token: string): Promise<Principal | null> {
    const key = await this.repo.getApiKeyByHash(sha256Hex(token));
    const nowMs = this.clock.nowMs();
    const principal = key ? this.keyPrincipal(key, nowMs) : null;
    if (principal && this.shouldTouch(principal.id, nowMs))
      await this.repo.updateApiKey(principal.id, { lastUsedAt: this.clock.nowIso() });
    return principal;
  }

  private keyPrincipal(key: ApiKeyEntity, nowMs: number): Principal | null {
    if (!key.active || key.revokedAt) return null;
    if (key.expiresAt && Date.parse(key.expiresAt) <= nowMs) return null;
    if (!(ROLES as readonly string[]).includes(key.role)) return null;
    return {
      kind: 'api_key',
      id: key.id,
      name: key.name,
      role: key.role,
      capabilities: new Set(apiKeyCapabilities(key)),
      cameraScope: key.scopeKind === 'cameras' ? [...(key.scopeCameras ?? [])] : 'all',
    };
  }

  private userPrincipal(user: UserEntity): Principal | null {
    if (!user.active || !(ROLES as readonly string[]).includes(user.role)) return null;
    return {
      kind: 'user',
      id: user.id,
      name: user.username,
      role: user.role,
      capabilities: new Set(ROLE_CAPABILITIES[user.role]),
      cameraScope: 'all',
    };
  }

  private async fromSession(token: string): Promise<Principal | null> {
    const id = sha256Hex(token);
    const session = await this.repo.getSession(id);
    if (!session) return null;
    const nowMs = this.clock.nowMs();
    const idleMs = this.config.sessionIdleTimeoutMin * 60_000;
    const lastUsed = Math.max(Date.parse(session.lastUsedAt), this.seen.get(id) ?? 0);
    if (Date.parse(session.expiresAt) <= nowMs || (idleMs > 0 && nowMs - lastUsed > idleMs)) {
      await this.repo.deleteSession(id);
      this.seen.delete(id);
      this.logger.log({ userId: session.userId }, 'session ended (expired or idle)');
      return null;
    }
    const user = await this.repo.getUser(session.userId);
    const principal = user ? this.userPrincipal(user) : null;
    if (!principal) return null;
    if (this.shouldTouch(id, nowMs)) await this.repo.touchSession(id, this.clock.nowIso());
    return principal;
  }

  private shouldTouch(id: string, nowMs: number): boolean {
    const last = this.seen.get(id) ?? 0;
    if (this.seen.size > 100_000) this.seen.clear(); // bounded; the DB stamp still carries idle time
    this.seen.set(id, Math.max(last, nowMs));
    return nowMs - last >= TOUCH_EVERY_MS;
  }
}
