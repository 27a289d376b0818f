import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { isIP } from 'node:net';
import type { Subscription } from 'rxjs';
import { Clock } from '../common/clock';
import { uuidv7 } from '../common/ids';
import { Loops } from '../common/loops';
import { SecretBox } from '../common/secret-box';
import { HeldarConfig } from '../config/heldar-config';
import { EventBus, type KernelEvent } from '../events/event-bus';
import { severityRank } from '../events/event-types';
import { EventsService } from '../events/events.service';
import { blockedAddress, post, type PostResult } from './egress';
import type { WebhookDeliveryEntity } from './entities/webhook-delivery.entity';
import type { WebhookEntity } from './entities/webhook.entity';
import { retryDelayMs, signedHeaders, typeMatches } from './webhook-signing';
import { WebhooksRepository } from './webhooks.repository';

const SCHEDULE_BATCH = 500;

/** The JSON body of a delivery. */
export function deliveryBody(e: KernelEvent): string {
  return JSON.stringify({
    id: e.id,
    seq: e.seq,
    type: e.eventType,
    severity: e.severity,
    camera_id: e.cameraId,
    site_id: e.siteId,
    timestamp: e.timestamp,
    payload: e.payload,
  });
}

export function matches(w: Pick<WebhookEntity, 'eventTypes' | 'minSeverity'>, e: KernelEvent): boolean {
  return typeMatches(w.eventTypes, e.eventType) && severityRank(e.severity) >= severityRank(w.minSeverity);
}

/**
 * Delivery, at least once. Each subscription has a cursor (`seq`): events past it become
 * delivery rows (and the cursor moves) in one transaction, straight after each commit (the bus)
 * and on a 1 s tick (catch-up after a restart). Due deliveries are sent concurrently, each on its
 * own schedule, so one failing event never holds back the others; every attempt is a ledger row.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private subscription?: Subscription;
  private scheduling: Promise<void> | null = null;
  private scheduleAgain = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private stopped = false;
  private readonly healthChains = new Map<string, Promise<void>>();

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly events: EventsService,
    private readonly bus: EventBus,
    private readonly box: SecretBox,
    private readonly loops: Loops,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const requeued = await this.repo.requeueInFlight(this.clock.nowIso());
    if (requeued > 0) this.logger.warn(`re-queued ${requeued} delivery(ies) interrupted by a stop`);
    this.subscription = this.bus.events$.subscribe(() => this.kick());
    this.loops.start('webhooks', 1000, () => this.cycle());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.subscription?.unsubscribe();
    await this.scheduling;
    await Promise.allSettled(this.inFlight.values());
  }

  /** Schedule and send now (after an event commits, a replay, a new subscription). */
  kick(): void {
    void this.cycle().catch((err: unknown) => this.logger.error({ err }, 'webhook dispatch failed'));
  }

  private async cycle(): Promise<void> {
    if (this.stopped) return;
    await this.schedule();
    await this.pump();
  }

  /** Turn events past each cursor into deliveries; concurrent calls coalesce into one more pass. */
  schedule(): Promise<void> {
    if (this.scheduling) {
      this.scheduleAgain = true;
      return this.scheduling;
    }
    this.scheduling = (async () => {
      try {
        do {
          this.scheduleAgain = false;
          for (const w of await this.repo.all()) {
            if (w.enabled) await this.scheduleFor(w);
          }
        } while (this.scheduleAgain && !this.stopped);
      } finally {
        this.scheduling = null;
      }
    })();
    return this.scheduling;
  }

  private async scheduleFor(w: WebhookEntity): Promise<void> {
    let cursor = w.cursorSeq;
    for (;;) {
      const batch = await this.events.getAll({ sinceSeq: cursor, limit: SCHEDULE_BATCH });
      if (batch.length === 0) return;
      const now = this.clock.nowIso();
      const rows: WebhookDeliveryEntity[] = batch
        .filter((e) => matches(w, e))
        .map((e) => ({
          id: `msg_${uuidv7().replace(/-/g, '')}`,
          webhookId: w.id,
          eventSeq: e.seq,
          eventType: e.eventType,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          lastStatusCode: null,
          lastError: null,
          deliveredAt: null,
          createdAt: now,
          updatedAt: now,
        }));
      cursor = batch[batch.length - 1].seq;
      await this.repo.schedule(w.id, rows, cursor);
      if (batch.length < SCHEDULE_BATCH) return;
    }
  }

  /** Start due deliveries up to the concurrency bound. */
  private async pump(): Promise<void> {
    if (this.stopped) return;
    const free = this.config.webhookConcurrency - this.inFlight.size;
    if (free <= 0) return;
    const hooks = new Map((await this.repo.all()).filter((w) => w.enabled).map((w) => [w.id, w]));
    const due = await this.repo.due(
      [...hooks.keys()],
      this.clock.nowIso(),
      free,
      new Set(this.inFlight.keys()),
    );
    for (const d of due) {
      if (this.inFlight.size >= this.config.webhookConcurrency) break;
      if (!(await this.repo.claim(d.id, this.clock.nowIso()))) continue;
      const p = this.deliver(hooks.get(d.webhookId)!, d)
        .catch((err: unknown) => this.logger.error({ err, delivery: d.id }, 'delivery failed unexpectedly'))
        .finally(() => {
          this.inFlight.delete(d.id);
          if (!this.stopped) void this.pump().catch(() => undefined);
        });
      this.inFlight.set(d.id, p);
    }
  }

  /** Sign and POST one message to a subscription. */
  async send(w: WebhookEntity, msgId: string, body: string): Promise<PostResult> {
    const host = new URL(w.url).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && blockedAddress(host)) {
      return { ok: false, statusCode: null, error: `refused: ${blockedAddress(host)}`, durationMs: 0 };
    }
    const secret = this.box.open(w.secret);
    const headers = signedHeaders(secret, msgId, Math.floor(this.clock.nowMs() / 1000), body);
    return post(w.url, headers, body, this.config.webhookTimeoutMs);
  }

  private async deliver(w: WebhookEntity, d: WebhookDeliveryEntity): Promise<void> {
    const [event] = await this.events.getBySeqs([d.eventSeq]);
    const attempt = d.attempts + 1;
    const result: PostResult = event
      ? await this.send(w, d.id, deliveryBody(event))
      : { ok: false, statusCode: null, error: 'the event no longer exists (retention)', durationMs: 0 };
    const now = this.clock.nowIso();
    const delay = result.ok || !event ? null : retryDelayMs(this.config.webhookRetryDelaysS, attempt);
    await this.repo.transaction(async () => {
      await this.repo.insertAttempt({
        deliveryId: d.id,
        webhookId: w.id,
        attempt,
        ok: result.ok,
        statusCode: result.statusCode,
        error: result.error,
        durationMs: result.durationMs,
        createdAt: now,
      });
      await this.repo.updateDelivery(d.id, {
        status: result.ok ? 'delivered' : delay === null ? 'dead' : 'retrying',
        attempts: attempt,
        nextAttemptAt:
          result.ok || delay === null ? null : new Date(this.clock.nowMs() + delay).toISOString(),
        lastStatusCode: result.statusCode,
        lastError: result.error,
        deliveredAt: result.ok ? now : null,
        updatedAt: now,
      });
    });
    // Serialised per subscription, so concurrent outcomes count (and raise events) exactly once.
    const prev = this.healthChains.get(w.id) ?? Promise.resolve();
    const next = prev.then(() => this.health(w.id, result.ok, result.error));
    this.healthChains.set(w.id, next);
    try {
      await next;
    } finally {
      if (this.healthChains.get(w.id) === next) this.healthChains.delete(w.id);
    }
  }

  /** Consecutive failures per subscription; `webhook_failing` once past the bound, then `webhook_recovered`. */
  private async health(id: string, ok: boolean, error: string | null): Promise<void> {
    const w = await this.repo.get(id);
    if (!w) return;
    const now = this.clock.nowIso();
    if (ok) {
      await this.repo.update(id, { consecutiveFailures: 0, failing: false, lastSuccessAt: now });
      if (w.failing) {
        await this.events.emit({
          type: 'webhook_recovered',
          severity: 'info',
          payload: { webhook_id: id, name: w.name },
        });
      }
      return;
    }
    const failures = w.consecutiveFailures + 1;
    const failing = failures >= this.config.webhookFailingAfter;
    await this.repo.update(id, { consecutiveFailures: failures, failing, lastFailureAt: now });
    if (failing && !w.failing) {
      this.logger.warn({ webhook: id, failures, error }, 'webhook keeps failing');
      await this.events.emit({
        type: 'webhook_failing',
        severity: 'warning',
        payload: { webhook_id: id, name: w.name, consecutive_failures: failures, last_error: error },
      });
    }
  }
}
