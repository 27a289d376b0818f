import { SidecarsRepository } from './sidecars.repository';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { ApiKeysService } from '../auth/api-keys.service';
import { ROLE_CAPABILITIES, type Capability, type Role } from '../auth/capabilities';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { BadRequestError, ConflictError, NotFoundError } from '../common/errors';
import { Loops } from '../common/loops';
import { HeldarConfig } from '../config/heldar-config';
import { DatabaseService } from '../database/database.service';
import { EventsService } from '../events/events.service';
import { sidecarState } from '../settings/module-state';
import { type ModuleMeta, SettingsService } from '../settings/settings.service';
import { get as httpGet } from '../webhooks/egress';
import { WebhooksService } from '../webhooks/webhooks.service';
import { type ModuleHealth, type NavEntry, SidecarEntity } from './entities/sidecar.entity';

export const EVENTS_PATH = '/heldar/events';
export const HEALTH_PATH = '/heldar/health';
const HEALTH_TIMEOUT_MS = 5000;
/** Ids no sidecar may take (besides the built-in modules' own). */
const RESERVED = new Set(['api', 'media', 'docs', 'm', 'system', 'internal', 'metrics', 'healthz', 'readyz']);

export interface RegisterModule {
  id: string;
  name: string;
  base_url: string;
  role?: 'viewer' | 'integration';
  capabilities?: string[];
  camera_ids?: string[];
  event_types?: string[];
  min_severity?: string;
  nav?: NavEntry[];
  version?: string;
  description?: string;
}

/** A sidecar's entry in the module registry. */
function sidecarMeta(row: SidecarEntity): ModuleMeta {
  return { id: row.id, name: row.name, version: row.version, kind: 'sidecar', description: row.description };
}

/** Origin only: http(s), a host, no path, query or credentials. */
export function normalizeBaseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new BadRequestError('base_url is not a valid URL', 'VALIDATION_FAILED');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new BadRequestError('base_url must be http or https', 'VALIDATION_FAILED');
  }
  if (u.username || u.password)
    throw new BadRequestError('base_url must not carry credentials', 'VALIDATION_FAILED');
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) {
    throw new BadRequestError('base_url must be an origin (no path, query or fragment)', 'VALIDATION_FAILED');
  }
  return u.origin;
}

/**
 * Sidecar apps (seed 000): registering one atomically mints a scoped API key, a webhook
 * subscription to `<base_url>/heldar/events` and the row behind its `/m/{id}/*` mount;
 * unregistering removes all three. A loop probes `<base_url>/heldar/health`.
 */
@Injectable()
export class SidecarsService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('Sidecars');

  constructor(
    private readonly db: DatabaseService,
    private readonly repo: SidecarsRepository,
    private readonly apiKeys: ApiKeysService,
    private readonly webhooks: WebhooksService,
    private readonly settings: SettingsService,
    private readonly events: EventsService,
    private readonly audit: AuditService,
    private readonly loops: Loops,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  onModuleInit(): void {
    this.apiKeys.onScopeChange((principal, keyId, scope) => this.followKeyScope(principal, keyId, scope));
  }

  /** A sidecar's webhook keeps its key's camera scope when an admin changes the key's. */
  private async followKeyScope(
    principal: Principal,
    keyId: string,
    scope: 'all' | readonly string[],
  ): Promise<void> {
    const row = await this.repo.getByApiKey(keyId);
    if (!row) return;
    await this.webhooks
      .setModuleScope(principal, row.webhookId, scope === 'all' ? null : scope)
      .catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) throw err; // its webhook was deleted by hand: nothing follows
      });
  }

  onApplicationBootstrap(): void {
    this.loops.start('module_health', this.config.moduleHealthIntervalS * 1000, () => this.probeAll(), {
      scope: 'cluster',
    });
  }

  list(): Promise<SidecarEntity[]> {
    return this.repo.list();
  }

  lookup(id: string): Promise<SidecarEntity | null> {
    return this.repo.get(id);
  }

  async get(id: string): Promise<SidecarEntity> {
    const row = await this.lookup(id);
    if (!row) throw new NotFoundError(`module \`${id}\` is not registered`, 'MODULE_NOT_FOUND');
    return row;
  }

  async register(
    principal: Principal,
    req: RegisterModule,
  ): Promise<{ module: SidecarEntity; apiKey: string; webhookSecret: string }> {
    const baseUrl = normalizeBaseUrl(req.base_url);
    const role: Role = req.role ?? 'viewer';
    const allowed = ROLE_CAPABILITIES[role];
    const caps = (req.capabilities ?? [...allowed]) as Capability[];
    const extra = caps.filter((c) => !allowed.includes(c));
    if (extra.length > 0) {
      throw new BadRequestError(`a ${role} sidecar cannot hold: ${extra.join(', ')}`, 'VALIDATION_FAILED');
    }
    const builtin = (await this.settings.listModules()).filter((m) => m.kind === 'builtin').map((m) => m.id);
    if (RESERVED.has(req.id) || builtin.includes(req.id)) {
      throw new ConflictError(`module id \`${req.id}\` is reserved by the kernel`, 'MODULE_ID_RESERVED');
    }
    const now = this.clock.nowIso();
    return this.db.transaction(async () => {
      if (await this.repo.get(req.id)) {
        throw new ConflictError(`module \`${req.id}\` is already registered`, 'MODULE_EXISTS');
      }
      const scoped = req.camera_ids && req.camera_ids.length > 0;
      const key = await this.apiKeys.create(principal, {
        name: `module:${req.id}`,
        role,
        capabilities: scoped ? caps.filter((c) => c !== 'events:read') : caps,
        scope_kind: scoped ? 'cameras' : 'all',
        scope_cameras: scoped ? req.camera_ids : undefined,
      });
      const hook = await this.webhooks.create(
        principal,
        {
          name: `module:${req.id}`,
          url: `${baseUrl}${EVENTS_PATH}`,
          event_types: req.event_types,
          min_severity: req.min_severity,
          // The webhook carries the key's scope: a scoped sidecar gets only its cameras' events.
          scope_kind: scoped ? 'cameras' : 'all',
          scope_cameras: scoped ? req.camera_ids : undefined,
        },
        req.id,
      );
      const row: SidecarEntity = {
        id: req.id,
        name: req.name,
        version: req.version ?? '0.0.0',
        description: req.description ?? null,
        baseUrl,
        role,
        apiKeyId: key.id,
        webhookId: hook.id,
        nav: req.nav ?? [],
        health: 'unknown',
        healthCheckedAt: null,
        healthError: null,
        createdAt: now,
        updatedAt: now,
      };
      await this.repo.create(row);
      // Its registry record: `loaded` until its first health probe answers.
      await this.settings.upsertModule(sidecarMeta(row), sidecarState(row.health));
      await this.audit.record(principal, 'register_module', 'module', req.id, {
        base_url: baseUrl,
        role,
        api_key_id: key.id,
        webhook_id: hook.id,
      });
      return { module: row, apiKey: key.key, webhookSecret: hook.secret };
    });
  }

  /** Key, webhook and row go together: the key then gets 401, the webhook stops. */
  async unregister(principal: Principal, id: string): Promise<void> {
    await this.db.transaction(async () => {
      const row = await this.repo.get(id);
      if (!row) throw new NotFoundError(`module \`${id}\` is not registered`, 'MODULE_NOT_FOUND');
      await this.apiKeys.delete(principal, row.apiKeyId).catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) throw err; // already revoked by hand: fine
      });
      await this.webhooks.delete(principal, row.webhookId).catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) throw err;
      });
      await this.repo.delete(id);
      await this.settings.upsertModule(sidecarMeta(row), 'stopped');
      await this.audit.record(principal, 'unregister_module', 'module', id, { base_url: row.baseUrl });
    });
  }

  async probeAll(): Promise<void> {
    for (const row of await this.list()) await this.probe(row);
  }

  /**
   * GET `<base_url>/heldar/health`: 2xx healthy, anything else unreachable; events on transitions.
   * The sidecar's registry record follows: `running`, or `failed` with the probe's error.
   */
  async probe(row: SidecarEntity): Promise<ModuleHealth> {
    const r = await httpGet(`${row.baseUrl}${HEALTH_PATH}`, HEALTH_TIMEOUT_MS);
    const health: ModuleHealth = r.ok ? 'healthy' : 'unreachable';
    const now = this.clock.nowIso();
    const updated = await this.repo.setHealth(row.id, {
      health,
      healthCheckedAt: now,
      healthError: r.ok ? null : r.error,
    });
    if (!updated) return health; // unregistered while it was probed: its record stays `stopped`
    await this.settings.upsertModule(sidecarMeta(row), sidecarState(health), r.ok ? null : r.error);
    if (health !== row.health && (health === 'unreachable' || row.health === 'unreachable')) {
      const type = health === 'unreachable' ? 'module_unreachable' : 'module_recovered';
      if (health === 'unreachable')
        this.logger.warn({ module: row.id, error: r.error }, 'sidecar unreachable');
      await this.events.emit({
        type,
        severity: health === 'unreachable' ? 'warning' : 'info',
        payload: { module_id: row.id, name: row.name, error: r.ok ? null : r.error },
      });
    }
    return health;
  }
}
