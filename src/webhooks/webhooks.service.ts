import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { BadRequestError, ForbiddenError, NotFoundError } from '../common/errors';
import { prefixedId, uuidv7 } from '../common/ids';
import { maskUrlAndQuery } from '../common/redaction';
import { SecretBox } from '../common/secret-box';
import { EventsService } from '../events/events.service';
import type {
  CreatedWebhookDto,
  CreateWebhookDto,
  UpdateWebhookDto,
  WebhookDeliveryDto,
  WebhookDto,
  WebhookTestResultDto,
} from './dto/webhook.dto';
import { vetUrl } from './egress';
import { type CameraScope, scopeDto, scopeFromDto, scopeWithin } from './webhook-scope';
import type { WebhookEntity } from './entities/webhook.entity';
import { deliveryBody, WebhookDispatcher } from './webhook-dispatcher.service';
import { newWebhookSecret, secretProblem, webhookSecretAad } from './webhook-signing';
import { WebhooksRepository } from './webhooks.repository';

export function toWebhookDto(w: WebhookEntity): WebhookDto {
  return {
    id: w.id,
    name: w.name,
    url: maskUrlAndQuery(w.url),
    event_types: w.eventTypes,
    min_severity: w.minSeverity,
    enabled: w.enabled,
    ...scopeDto(w.cameraScope),
    module_id: w.moduleId,
    failing: w.failing,
    consecutive_failures: w.consecutiveFailures,
    last_success_at: w.lastSuccessAt,
    last_failure_at: w.lastFailureAt,
    created_at: w.createdAt,
    updated_at: w.updatedAt,
  };
}

/** Webhook subscriptions: CRUD (secrets sealed, URLs vetted and masked), test and replay. */
@Injectable()
export class WebhooksService implements OnModuleInit {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly dispatcher: WebhookDispatcher,
    private readonly events: EventsService,
    private readonly audit: AuditService,
    private readonly box: SecretBox,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.resealLegacy();
  }

  /** One-time upgrade: signing secrets sealed before the binding (`enc:v1:`) or plain are re-sealed
   * as `enc:v2:` bound to `webhooks.secret:<id>` (a no-op once done). */
  async resealLegacy(): Promise<number> {
    let resealed = 0;
    for (const w of await this.repo.all()) {
      if (!SecretBox.needsReseal(w.secret)) continue;
      const aad = webhookSecretAad(w.id);
      try {
        await this.repo.update(w.id, { secret: this.box.seal(this.box.open(w.secret, aad), aad) });
        resealed++;
      } catch (err) {
        this.logger.error({ err, webhookId: w.id }, 'a legacy signing secret cannot be opened');
      }
    }
    if (resealed > 0) this.logger.log(`re-sealed ${resealed} webhook signing secret(s), bound to their row`);
    return resealed;
  }

  async list(): Promise<WebhookDto[]> {
    return (await this.repo.all()).map(toWebhookDto);
  }

  async get(id: string): Promise<WebhookDto> {
    return toWebhookDto(await this.load(id));
  }

  private async load(id: string): Promise<WebhookEntity> {
    const w = await this.repo.get(id);
    if (!w) throw new NotFoundError(`webhook \`${id}\` not found`, 'WEBHOOK_NOT_FOUND');
    return w;
  }

  /**
   * The scope asked for, checked: a camera-scoped principal cannot subscribe wider than its own
   * scope (an unscoped request from it takes its scope).
   */
  private checkedScope(
    principal: Principal,
    dto: Pick<CreateWebhookDto, 'scope_kind' | 'scope_cameras'>,
  ): CameraScope | undefined {
    const r = scopeFromDto(dto.scope_kind, dto.scope_cameras);
    if ('problem' in r) throw new BadRequestError(r.problem, 'VALIDATION_FAILED');
    if (r.scope === undefined) return undefined;
    if (!scopeWithin(r.scope, principal.cameraScope)) {
      throw new ForbiddenError('a subscription cannot be wider than your own camera scope', 'CAMERA_SCOPE');
    }
    return r.scope;
  }

  private async checkedUrl(url: string): Promise<string> {
    const v = await vetUrl(url.trim());
    if (!v.ok) throw new BadRequestError(v.problem, 'VALIDATION_FAILED');
    return v.url.toString();
  }

  /**
   * Create a subscription (`moduleId` when a sidecar registration mints it). It starts at the
   * current end of the event log: history is not replayed to a new subscriber.
   */
  async create(
    principal: Principal,
    dto: CreateWebhookDto,
    moduleId: string | null = null,
  ): Promise<CreatedWebhookDto> {
    const scope =
      this.checkedScope(principal, dto) ??
      (principal.cameraScope === 'all' ? null : [...principal.cameraScope]);
    const url = await this.checkedUrl(dto.url);
    const secret = dto.secret ?? newWebhookSecret();
    const problem = secretProblem(secret);
    if (problem) throw new BadRequestError(problem, 'VALIDATION_FAILED');
    const now = this.clock.nowIso();
    const id = prefixedId('wh_');
    const row: WebhookEntity = {
      id,
      name: dto.name ?? new URL(url).host,
      url,
      eventTypes: dto.event_types && dto.event_types.length > 0 ? dto.event_types : ['*'],
      minSeverity: dto.min_severity ?? 'info',
      secret: this.box.seal(secret, webhookSecretAad(id)),
      enabled: dto.enabled ?? true,
      cameraScope: scope === null ? null : [...scope],
      moduleId,
      cursorSeq: await this.events.maxSeq(),
      consecutiveFailures: 0,
      failing: false,
      lastSuccessAt: null,
      lastFailureAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.repo.transaction(async () => {
      await this.repo.insert(row);
      await this.audit.record(principal, 'create_webhook', 'webhook', row.id, {
        url: maskUrlAndQuery(url),
        event_types: row.eventTypes,
        ...scopeDto(scope),
        module_id: moduleId,
      });
    });
    this.repo.afterCommit(() => this.dispatcher.invalidate());
    return { ...toWebhookDto(row), secret };
  }

  async update(principal: Principal, id: string, dto: UpdateWebhookDto): Promise<WebhookDto> {
    const w = await this.load(id);
    const patch: Partial<WebhookEntity> = { updatedAt: this.clock.nowIso() };
    const scope = this.checkedScope(principal, dto);
    if (scope !== undefined) {
      if (w.moduleId !== null) {
        throw new BadRequestError(
          `the camera scope of a sidecar's webhook follows its API key: change the scope of module \`${w.moduleId}\`'s key`,
          'MODULE_WEBHOOK_SCOPE',
        );
      }
      patch.cameraScope = scope === null ? null : [...scope];
    }
    if (dto.name !== undefined) patch.name = dto.name;
    if (dto.url !== undefined) patch.url = await this.checkedUrl(dto.url);
    if (dto.event_types !== undefined)
      patch.eventTypes = dto.event_types.length > 0 ? dto.event_types : ['*'];
    if (dto.min_severity !== undefined) patch.minSeverity = dto.min_severity;
    if (dto.enabled !== undefined) {
      patch.enabled = dto.enabled;
      // A disabled subscription does not pile up a backlog: re-enabled, it starts from now.
      if (dto.enabled && !w.enabled) patch.cursorSeq = await this.events.maxSeq();
    }
    await this.repo.transaction(async () => {
      await this.repo.update(id, patch);
      await this.audit.record(principal, 'update_webhook', 'webhook', id, {
        fields: Object.keys(dto),
        ...(scope !== undefined ? scopeDto(scope) : {}),
      });
    });
    this.repo.afterCommit(() => this.dispatcher.invalidate());
    return toWebhookDto((await this.repo.get(id))!);
  }

  /**
   * A sidecar's webhook follows its API key's camera scope (called when that scope changes,
   * inside the key's transaction).
   */
  async setModuleScope(principal: Principal, id: string, scope: CameraScope): Promise<void> {
    const w = await this.load(id);
    if (w.moduleId === null)
      throw new BadRequestError(`webhook \`${id}\` belongs to no module`, 'VALIDATION_FAILED');
    await this.repo.transaction(async () => {
      await this.repo.update(id, {
        cameraScope: scope === null ? null : [...scope],
        updatedAt: this.clock.nowIso(),
      });
      await this.audit.record(principal, 'update_webhook', 'webhook', id, {
        fields: ['scope_kind', 'scope_cameras'],
        ...scopeDto(scope),
        module_id: w.moduleId,
      });
    });
    this.repo.afterCommit(() => this.dispatcher.invalidate());
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.load(id);
    await this.repo.transaction(async () => {
      await this.repo.delete(id);
      await this.audit.record(principal, 'delete_webhook', 'webhook', id);
    });
    this.repo.afterCommit(() => this.dispatcher.invalidate());
  }

  /** Send a signed `webhook_test` message now and report what the receiver answered. */
  async test(principal: Principal, id: string): Promise<WebhookTestResultDto> {
    const w = await this.load(id);
    const msgId = `msg_test_${uuidv7().replace(/-/g, '')}`;
    const now = this.clock.nowIso();
    const body = deliveryBody({
      seq: 0,
      id: uuidv7(),
      cameraId: null,
      siteId: null,
      eventType: 'webhook_test',
      severity: 'info',
      timestamp: now,
      payload: { webhook_id: id, message: 'test delivery from Heldar' },
      createdAt: now,
    });
    const r = await this.dispatcher.send(w, msgId, body);
    await this.audit.record(principal, 'test_webhook', 'webhook', id, {
      ok: r.ok,
      status_code: r.statusCode,
    });
    return {
      ok: r.ok,
      status_code: r.statusCode,
      error: r.error,
      duration_ms: r.durationMs,
      message_id: msgId,
    };
  }

  async deliveries(id: string, status: string | undefined, limit: number): Promise<WebhookDeliveryDto[]> {
    await this.load(id);
    const rows = await this.repo.deliveries(id, status, limit);
    const attempts = await this.repo.attemptsOf(rows.map((r) => r.id));
    return rows.map((d) => ({
      id: d.id,
      webhook_id: d.webhookId,
      event_seq: d.eventSeq,
      event_type: d.eventType,
      status: d.status,
      attempts: d.attempts,
      next_attempt_at: d.nextAttemptAt,
      last_status_code: d.lastStatusCode,
      last_error: d.lastError,
      delivered_at: d.deliveredAt,
      created_at: d.createdAt,
      attempt_log: attempts
        .filter((a) => a.deliveryId === d.id)
        .map((a) => ({
          attempt: a.attempt,
          ok: a.ok,
          status_code: a.statusCode,
          error: a.error,
          duration_ms: a.durationMs,
          at: a.createdAt,
        })),
    }));
  }

  /** Queue a delivery again (same `webhook-id`, a fresh retry schedule). */
  async replay(principal: Principal, id: string, deliveryId: string): Promise<WebhookDeliveryDto> {
    await this.load(id);
    const d = await this.repo.getDelivery(deliveryId);
    if (!d || d.webhookId !== id) {
      throw new NotFoundError(
        `delivery \`${deliveryId}\` not found on webhook \`${id}\``,
        'DELIVERY_NOT_FOUND',
      );
    }
    if (d.status === 'delivering') {
      throw new BadRequestError('that delivery is being sent right now', 'DELIVERY_IN_FLIGHT');
    }
    const now = this.clock.nowIso();
    await this.repo.transaction(async () => {
      await this.repo.updateDelivery(deliveryId, {
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        updatedAt: now,
      });
      await this.audit.record(principal, 'replay_webhook_delivery', 'webhook', id, {
        delivery_id: deliveryId,
        event_seq: d.eventSeq,
      });
    });
    this.dispatcher.kick();
    return (await this.deliveries(id, undefined, 1000)).find((x) => x.id === deliveryId)!;
  }
}
