import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { hash, verify, Algorithm } from '@node-rs/argon2';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import {
  BadRequestError,
  ConflictError,
  NotFoundError,
  TooManyRequestsError,
  UnauthorizedError,
} from '../common/errors';
import { prefixedId } from '../common/ids';
import { HeldarConfig } from '../config/heldar-config';
import { AuthRepository } from './auth.repository';
import { AttemptWindows, loginThrottleKey } from './login-throttle';
import type { Role } from './capabilities';
import type { CreateUserDto, UpdateUserDto, UserDto } from './dto/auth.dto';
import type { UserEntity } from './entities/user.entity';
import { SYSTEM_PRINCIPAL, type Principal } from './principal';
import { newSessionToken, sha256Hex } from './tokens';

const hashPassword = (password: string) => hash(password, { algorithm: Algorithm.Argon2id });

/** Every failed login looks the same to the caller. */
const INVALID = () => new UnauthorizedError('invalid credentials', 'INVALID_CREDENTIALS');

/**
 * Users, login and sessions. Login always pays one argon2 verification (a dummy hash for unknown
 * users), answers every failure with the same 401, locks an account after repeated failures and
 * rate-limits attempts per client IP.
 */
@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');
  private dummyHash: Promise<string> | undefined;
  private readonly attempts: AttemptWindows;

  constructor(
    private readonly repo: AuthRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {
    this.attempts = new AttemptWindows(config.loginRateLimitPerMin);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.authEnabled) return;
    if ((await this.repo.countUsers()) > 0) return;
    const { bootstrapAdminUser: username, bootstrapAdminPassword: password } = this.config;
    if (!username || !password) {
      this.logger.warn(
        'auth is on and no user exists: set HELDAR_BOOTSTRAP_ADMIN_USER and _PASSWORD to create the first admin',
      );
      return;
    }
    await this.create(SYSTEM_PRINCIPAL, { username, password, role: 'admin', display_name: username });
    this.logger.log(`created the first admin "${username}" from HELDAR_BOOTSTRAP_ADMIN_USER`);
  }

  async list(): Promise<UserDto[]> {
    return (await this.repo.getUsers()).map((u) => this.toDto(u));
  }

  async create(principal: Principal, dto: CreateUserDto): Promise<UserDto> {
    const now = this.clock.nowIso();
    const row: UserEntity = {
      id: prefixedId('usr_'),
      username: dto.username,
      passwordHash: await hashPassword(dto.password),
      role: (dto.role ?? 'viewer') as Role,
      displayName: dto.display_name ?? null,
      active: dto.active ?? true,
      failedLoginCount: 0,
      lockedUntil: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.repo.transaction(async () => {
      if (await this.repo.getUserByName(row.username)) {
        throw new ConflictError(`user \`${row.username}\` already exists`, 'USER_EXISTS');
      }
      await this.repo.insertUser(row);
      await this.audit.record(principal, 'create_user', 'user', row.id, {
        username: row.username,
        role: row.role,
      });
    });
    return this.toDto(row);
  }

  async update(principal: Principal, id: string, dto: UpdateUserDto): Promise<UserDto> {
    const passwordHash = dto.password ? await hashPassword(dto.password) : undefined;
    return this.repo.transaction(async () => {
      const user = await this.load(id);
      const demoted = dto.role !== undefined && dto.role !== 'admin';
      const disabled = dto.active === false;
      if (
        user.role === 'admin' &&
        user.active &&
        (demoted || disabled) &&
        (await this.repo.countActiveAdmins()) <= 1
      ) {
        throw new BadRequestError('cannot demote or disable the last active admin', 'LAST_ADMIN');
      }
      await this.repo.updateUser(id, {
        ...(passwordHash ? { passwordHash } : {}),
        ...(dto.role ? { role: dto.role as Role } : {}),
        ...(dto.display_name !== undefined ? { displayName: dto.display_name } : {}),
        ...(dto.active !== undefined ? { active: dto.active } : {}),
        failedLoginCount: 0,
        lockedUntil: null,
        updatedAt: this.clock.nowIso(),
      });
      if (passwordHash || disabled) await this.repo.deleteUserSessions(id);
      const fields = Object.keys(dto).filter((k) => (dto as Record<string, unknown>)[k] !== undefined);
      await this.audit.record(principal, 'update_user', 'user', id, { fields });
      return this.toDto((await this.repo.getUser(id))!);
    });
  }

  async unlock(principal: Principal, id: string): Promise<UserDto> {
    return this.repo.transaction(async () => {
      await this.load(id);
      await this.repo.updateUser(id, {
        failedLoginCount: 0,
        lockedUntil: null,
        updatedAt: this.clock.nowIso(),
      });
      await this.audit.record(principal, 'unlock_user', 'user', id);
      return this.toDto((await this.repo.getUser(id))!);
    });
  }

  async delete(principal: Principal, id: string): Promise<void> {
    if (principal.kind === 'user' && principal.id === id) {
      throw new BadRequestError('you cannot delete yourself', 'SELF_DELETE');
    }
    await this.repo.transaction(async () => {
      const user = await this.load(id);
      if (user.role === 'admin' && user.active && (await this.repo.countActiveAdmins()) <= 1) {
        throw new BadRequestError('cannot delete the last active admin', 'LAST_ADMIN');
      }
      await this.repo.deleteUserSessions(id);
      await this.repo.deleteUser(id);
      await this.audit.record(principal, 'delete_user', 'user', id, { username: user.username });
    });
  }

  /** Check credentials and open a session. */
  async login(
    username: string,
    password: string,
    ip: string,
  ): Promise<{ token: string; expiresAt: string; user: UserDto }> {
    this.rateLimit(ip);
    const user = await this.repo.getUserByName(username);
    const nowMs = this.clock.nowMs();
    const max = this.config.loginMaxFailures;
    const lockMin = this.config.loginLockoutMin;
    const limit = max > 0 && lockMin > 0 ? max : 0;
    const lockUntil = new Date(nowMs + lockMin * 60_000).toISOString();
    // Claim the attempt before verifying: the claim that reaches the limit locks the account, so
    // parallel guesses get at most `limit` verifications against the real hash between them.
    const claimed =
      user && user.active
        ? await this.repo.claimLoginAttempt(user.id, limit, lockUntil, this.clock.nowIso())
        : null;
    // Unknown, inactive and locked accounts pay a dummy verification: every failure costs the same.
    const hashToCheck = user && claimed !== null ? user.passwordHash : await this.dummy();
    const ok = await verify(hashToCheck, password).catch(() => false);
    if (!user || claimed === null || !ok) {
      if (user && claimed !== null && limit > 0 && claimed === limit) {
        await this.audit.record(asActor(user), 'login_locked', 'user', user.id, {
          failures: claimed,
          locked_until: lockUntil,
        });
      }
      throw INVALID();
    }
    const token = newSessionToken();
    const now = this.clock.nowIso();
    const expiresAt = new Date(nowMs + this.config.sessionTtlHours * 3_600_000).toISOString();
    await this.repo.transaction(async () => {
      await this.repo.updateUser(user.id, { failedLoginCount: 0, lockedUntil: null });
      await this.repo.insertSession({
        id: sha256Hex(token),
        userId: user.id,
        createdAt: now,
        expiresAt,
        lastUsedAt: now,
      });
      await this.repo.deleteExpiredSessions(now);
      await this.audit.record(asActor(user), 'login', 'user', user.id, { ip });
    });
    return { token, expiresAt, user: this.toDto({ ...user, failedLoginCount: 0, lockedUntil: null }) };
  }

  async logout(token: string | undefined): Promise<void> {
    if (!token || token.startsWith('vok_')) return;
    const session = await this.repo.getSession(sha256Hex(token));
    if (!session) return;
    await this.repo.deleteSession(session.id);
    const user = await this.repo.getUser(session.userId);
    if (user) await this.audit.record(asActor(user), 'logout', 'user', user.id);
  }

  /** Attempts per client address (IPv6 by /64) per minute. */
  private rateLimit(ip: string): void {
    if (this.config.loginRateLimitPerMin <= 0) return;
    const retryAfterS = this.attempts.hit(loginThrottleKey(ip), this.clock.nowMs());
    if (retryAfterS !== null) {
      throw new TooManyRequestsError(
        'too many login attempts from this address; wait and retry',
        retryAfterS,
      );
    }
  }

  private dummy(): Promise<string> {
    return (this.dummyHash ??= hashPassword('heldar-dummy-password'));
  }

  private async load(id: string): Promise<UserEntity> {
    const user = await this.repo.getUser(id);
    if (!user) throw new NotFoundError(`user \`${id}\` not found`, 'USER_NOT_FOUND');
    return user;
  }

  toDto(u: UserEntity): UserDto {
    return {
      id: u.id,
      username: u.username,
      role: u.role,
      display_name: u.displayName,
      active: u.active,
      locked: u.lockedUntil !== null && Date.parse(u.lockedUntil) > this.clock.nowMs(),
      created_at: u.createdAt,
      updated_at: u.updatedAt,
    };
  }
}

function asActor(u: UserEntity): Principal {
  return {
    kind: 'user',
    id: u.id,
    name: u.username,
    role: u.role,
    capabilities: new Set(),
    cameraScope: 'all',
  };
}
