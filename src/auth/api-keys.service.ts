import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { BadRequestError, NotFoundError } from '../common/errors';
import { prefixedId } from '../common/ids';
import { AuthRepository } from './auth.repository';
import { type Capability, ROLE_CAPABILITIES, type Role } from './capabilities';
import type { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto, UpdateApiKeyDto } from './dto/auth.dto';
import type { ApiKeyEntity } from './entities/api-key.entity';
import type { Principal } from './principal';
import { apiKeyCapabilities } from './principal-resolver';
import { newApiKey, sha256Hex } from './tokens';

const PRIVILEGED: Capability[] = ['admin', 'registry:manage'];

interface Grant {
  role: Role;
  capabilities: Capability[] | null;
  scopeKind: 'all' | 'cameras';
  scopeCameras: string[] | null;
  expiresAt: string | null;
}

/** Told, inside the key's transaction, that a key's camera scope changed. */
export type KeyScopeListener = (
  principal: Principal,
  keyId: string,
  scope: 'all' | readonly string[],
) => Promise<void>;

/** API keys: `vok_` keys shown once, stored as SHA-256, with a role or an explicit grant and a camera scope. */
@Injectable()
export class ApiKeysService {
  private readonly scopeListeners: KeyScopeListener[] = [];

  constructor(
    private readonly repo: AuthRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** What else follows a key's scope (a sidecar's webhook follows its key). */
  onScopeChange(listener: KeyScopeListener): void {
    this.scopeListeners.push(listener);
  }

  async list(): Promise<ApiKeyDto[]> {
    return (await this.repo.getApiKeys()).map(toDto);
  }

  async create(principal: Principal, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const grant = this.validate(
      {
        role: (dto.role ?? 'integration') as Role,
        capabilities: (dto.capabilities as Capability[] | undefined) ?? null,
        scopeKind: dto.scope_kind ?? 'all',
        scopeCameras: dto.scope_cameras ?? null,
        expiresAt: dto.expires_at ? new Date(dto.expires_at).toISOString() : null,
      },
      dto.confirm_privileged === true,
    );
    const key = newApiKey();
    const row: ApiKeyEntity = {
      id: prefixedId('key_'),
      name: dto.name.trim(),
      keyHash: sha256Hex(key),
      keyPrefix: key.slice(0, 12),
      ...grant,
      active: true,
      revokedAt: null,
      lastUsedAt: null,
      createdAt: this.clock.nowIso(),
    };
    await this.repo.transaction(async () => {
      await this.repo.insertApiKey(row);
      await this.audit.record(principal, 'create_api_key', 'api_key', row.id, {
        name: row.name,
        role: row.role,
        capabilities: row.capabilities,
        scope_kind: row.scopeKind,
        scope_cameras: row.scopeCameras,
      });
    });
    return { ...toDto(row), key };
  }

  async update(principal: Principal, id: string, dto: UpdateApiKeyDto): Promise<ApiKeyDto> {
    return this.repo.transaction(async () => {
      const cur = await this.load(id);
      const grant = this.validate(
        {
          role: cur.role,
          capabilities: (dto.capabilities as Capability[] | undefined) ?? cur.capabilities,
          scopeKind: dto.scope_kind ?? cur.scopeKind,
          scopeCameras: dto.scope_cameras ?? cur.scopeCameras,
          expiresAt: dto.expires_at ? new Date(dto.expires_at).toISOString() : cur.expiresAt,
        },
        dto.confirm_privileged === true || dto.capabilities === undefined,
      );
      await this.repo.updateApiKey(id, {
        ...grant,
        ...(dto.name !== undefined ? { name: dto.name.trim() } : {}),
        ...(dto.active !== undefined ? { active: dto.active } : {}),
        ...(dto.revoked ? { revokedAt: cur.revokedAt ?? this.clock.nowIso() } : {}),
      });
      const scope = grant.scopeKind === 'cameras' ? (grant.scopeCameras ?? []) : 'all';
      const before = cur.scopeKind === 'cameras' ? (cur.scopeCameras ?? []) : 'all';
      if (JSON.stringify(scope) !== JSON.stringify(before)) {
        for (const listener of this.scopeListeners) await listener(principal, id, scope);
      }
      const fields = Object.keys(dto).filter((k) => (dto as Record<string, unknown>)[k] !== undefined);
      await this.audit.record(principal, dto.revoked ? 'revoke_api_key' : 'update_api_key', 'api_key', id, {
        fields,
      });
      return toDto((await this.repo.getApiKey(id))!);
    });
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.repo.transaction(async () => {
      if (!(await this.repo.deleteApiKey(id)))
        throw new NotFoundError(`API key \`${id}\` not found`, 'API_KEY_NOT_FOUND');
      await this.audit.record(principal, 'delete_api_key', 'api_key', id);
    });
  }

  private validate(g: Grant, confirmed: boolean): Grant {
    const effective = g.capabilities ?? [...ROLE_CAPABILITIES[g.role]];
    if (effective.some((c) => PRIVILEGED.includes(c)) && !confirmed) {
      throw new BadRequestError(
        'this grant includes admin or registry:manage: send confirm_privileged: true to mint it',
        'CONFIRM_PRIVILEGED',
      );
    }
    if (g.scopeKind === 'cameras') {
      if (!g.scopeCameras || g.scopeCameras.length === 0) {
        throw new BadRequestError(
          'scope_kind "cameras" needs a non-empty scope_cameras list',
          'VALIDATION_FAILED',
        );
      }
      if (!g.capabilities) {
        throw new BadRequestError(
          'a camera-scoped key needs an explicit capabilities list',
          'VALIDATION_FAILED',
        );
      }
      if (g.capabilities.includes('admin') || g.capabilities.includes('events:read')) {
        throw new BadRequestError(
          'a camera-scoped key cannot hold admin or events:read',
          'VALIDATION_FAILED',
        );
      }
    }
    if (g.expiresAt && Date.parse(g.expiresAt) <= this.clock.nowMs()) {
      throw new BadRequestError('expires_at must be in the future', 'VALIDATION_FAILED');
    }
    return {
      ...g,
      capabilities: g.capabilities ? [...new Set(g.capabilities)] : null,
      scopeCameras: g.scopeKind === 'cameras' ? [...new Set(g.scopeCameras)] : null,
    };
  }

  private async load(id: string): Promise<ApiKeyEntity> {
    const key = await this.repo.getApiKey(id);
    if (!key) throw new NotFoundError(`API key \`${id}\` not found`, 'API_KEY_NOT_FOUND');
    return key;
  }
}

function toDto(k: ApiKeyEntity): ApiKeyDto {
  return {
    id: k.id,
    name: k.name,
    key_prefix: k.keyPrefix,
    role: k.role,
    capabilities: apiKeyCapabilities(k),
    explicit_capabilities: k.capabilities !== null,
    scope_kind: k.scopeKind,
    scope_cameras: k.scopeCameras ?? [],
    active: k.active,
    expires_at: k.expiresAt,
    revoked_at: k.revokedAt,
    last_used_at: k.lastUsedAt,
    created_at: k.createdAt,
  };
}
