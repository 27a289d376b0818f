import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { merge, type Subscription } from 'rxjs';
import { Clock } from '../common/clock';
import { Telemetry } from '../common/telemetry';
import { uuidv7 } from '../common/ids';
import { Leadership } from '../common/leadership';
import { Loops } from '../common/loops';
import { SecretBox, SecretBoxError } from '../common/secret-box';
import { HeldarConfig } from '../config/heldar-config';
import { EventBus, type KernelEvent } from '../events/event-bus';
import { EventHorizon } from '../events/event-horizon';
import { severityRank } from '../events/event-types';
import { EventsService } from '../events/events.service';
import { blockedAddress, GuardedClient, type PostResult } from './egress';
import type { WebhookDeliveryEntity } from './entities/webhook-delivery.entity';
import type { WebhookEntity } from './entities/webhook.entity';
import { scopeAdmits } from './webhook-scope';
import { retryDelayMs, signedHeaders, signingKey, typeMatches, webhookSecretAad } from './webhook-signing';
import { type SchedulePlan, WebhooksRepository } from './webhooks.repository';
import { KeyedSerialQueue } from '../common/validation';

/** Events per scheduling pass; passes yield to I/O in between, so a burst's first deliveries are
 * on the wire while the rest is still being scheduled. */
const SCHEDULE_BATCH = 100;
const REFILL_BATCH = 200;
/** Attempts sent but not yet committed to the ledger: at most this many times the concurrency. */
const UNRECORDED_FACTOR = 4;
/** A subscription's `last_success_at` is written at most this often while it keeps succeeding. */
const HEALTH_NOTE_MS = 5000;

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

/** An attempt that never reached the network. */
const refused = (error: string): Promise<PostResult> =>
  Promise.resolve({ ok: false, statusCode: null, error, durationMs: 0 });

/** Type, severity and camera scope (a scoped subscription gets no camera-less event). */
export function matches(
  w: Pick<WebhookEntity, 'eventTypes' | 'minSeverity' | 'cameraScope'>,
  e: Pick<KernelEvent, 'eventType' | 'severity' | 'cameraId'>,
): boolean {
  return (
    scopeAdmits(w.cameraScope, e.cameraId) &&
    typeMatches(w.eventTypes, e.eventType) &&
    severityRank(e.severity) >= severityRank(w.minSeverity)
  );
}

/**
 * Delivery, at least once. Each subscription has a cursor (`seq`): events past it become
 * delivery rows (and the cursors move) in one transaction, woken by each commit (the bus; commits
 * in the same turn share one pass) and on a 1 s tick (catch-up after a restart). New rows go
 * straight to an in-memory queue per subscription; the table is read for due rows only at boot,
 * on the tick, when a retry falls due, after a replay or a subscription change. Deliveries are
 * sent concurrently (`HELDAR_WEBHOOK_CONCURRENCY` in all, `HELDAR_WEBHOOK_SUBSCRIPTION_CONCURRENCY`
 * per subscription, taken round-robin, so a hung receiver holds only its own share) over
 * keep-alive sockets (the egress guard judges each new connection), each on its own schedule, so
 * one failing event never holds back the others; every attempt is a ledger row, written in groups.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private subscription?: Subscription;
  private leaderSub?: Subscription;
  private scheduling: Promise<void> | null = null;
  private scheduleAgain = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private stopped = false;
  private readonly healthChains = new KeyedSerialQueue();
  /** Subscriptions, cached (WebhooksService invalidates on every change). */
  private hooks: Promise<Map<string, WebhookEntity>> | null = null;
  /** Deliveries to send, per subscription, oldest first (scheduled, or taken from the table). */
  private readonly queues = new Map<string, WebhookDeliveryEntity[]>();
  /** Deliveries being sent per subscription (an attempt whose outcome is known is no longer). */
  private readonly busy = new Map<string, number>();
  /** Deliveries being sent, all subscriptions (bounded by HELDAR_WEBHOOK_CONCURRENCY). */
  private sending = 0;
  private refilling: Promise<void> | null = null;
  /** The table may hold due rows the queues do not (boot, the tick, a retry falling due, a replay). */
  private tableDue = true;
  private wakeQueued = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = Infinity;
  /** Recent events by seq: a delivery rarely needs to read its event back. */
  private readonly recent = new Map<number, KernelEvent>();
  private readonly bodies = new Map<number, string>();
  /** Opened signing keys by subscription, with the sealed value they came from. */
  private readonly secrets = new Map<string, { sealed: string; key: KeyObject }>();
  /** Keep-alive connections per origin; every new connection still goes through the egress guard. */
  private readonly client: GuardedClient;
  /** The delivery counter's children, bound once (a labelled inc hashes its labels every time). */
  private readonly outcomeCounters: Record<'delivered' | 'retrying' | 'dead', { inc(): void }>;
  /** Why a subscription's URL host is refused as written (a blocked literal), by URL; '' = not. */
  private readonly literalRefusals = new Map<string, string>();

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly events: EventsService,
    private readonly bus: EventBus,
    private readonly box: SecretBox,
    private readonly loops: Loops,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    private readonly telemetry: Telemetry,
    private readonly horizon: EventHorizon,
    private readonly leadership: Leadership,
  ) {
    const counter = telemetry.webhookDeliveries;
    this.outcomeCounters = {
      delivered: counter.labels({ outcome: 'delivered' }),
      retrying: counter.labels({ outcome: 'retrying' }),
      dead: counter.labels({ outcome: 'dead' }),
    };
    this.client = new GuardedClient({
      connections: config.webhookConcurrency,
      connectTimeoutMs: config.webhookTimeoutMs,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Cluster: the leader alone dispatches (the cursors and the ledger are shared): no delivery twice.
    if (this.leadership.isLeader()) await this.requeue();
    this.leaderSub = this.leadership.changes$.subscribe((leader) => {
      if (!leader) return this.queues.clear(); // the rows stay `delivering`: the next leader re-queues them
      void this.takeOver().catch((err: unknown) => this.logger.error({ err }, 'webhook takeover failed'));
    });
    // Each commit, and (PostgreSQL) each move of the visibility horizon: an event read past it
    // is delivered once the transactions open beside it have ended (see EventHorizon).
    this.subscription = merge(this.bus.events$, this.horizon.advanced$).subscribe(() => this.wake());
    this.loops.start(
      'webhooks',
      1000,
      () => {
        this.tableDue = true;
        // PostgreSQL: subscriptions may be changed through another node, which cannot invalidate
        // this cache: the leader reads them again every tick.
        if (!this.config.isSqlite) this.hooks = null;
        return this.cycle();
      },
      { scope: 'cluster' },
    );
  }

  /** What the previous dispatcher had taken and not recorded (a stop, a crash, a lost leadership) is due again. */
  private async requeue(): Promise<void> {
    const requeued = await this.repo.requeueInFlight(this.clock.nowIso());
    if (requeued > 0) this.logger.warn(`re-queued ${requeued} delivery(ies) interrupted by a stop`);
  }

  /** This node became the leader: its own sends of a former term end first, then the ledger's are due again. */
  private async takeOver(): Promise<void> {
    await Promise.allSettled(this.inFlight.values());
    if (this.stopped || !this.leadership.isLeader()) return;
    await this.requeue();
    this.invalidate();
    this.kick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.subscription?.unsubscribe();
    this.leaderSub?.unsubscribe();
    clearTimeout(this.retryTimer);
    await this.scheduling;
    await Promise.allSettled(this.inFlight.values());
    await this.client.destroy();
  }

  /** Drop the cached subscriptions (they changed). */
  invalidate(): void {
    this.hooks = null;
    this.secrets.clear();
    this.tableDue = true;
    // Warm the HTTP client for a new subscription now, not at its first event.
    if (!this.stopped && this.leadership.isLeader()) void this.subscriptions().catch(() => undefined);
  }

  private subscriptions(): Promise<Map<string, WebhookEntity>> {
    if (!this.hooks) {
      const load = this.repo.all().then((rows) => {
        // Deliveries will be sent: the HTTP client loads now, not in the middle of the first burst.
        if (rows.some((w) => w.enabled)) this.client.warm();
        return new Map(rows.map((w) => [w.id, w]));
      });
      this.hooks = load;
      load.catch(() => {
        if (this.hooks === load) this.hooks = null;
      });
    }
    return this.hooks;
  }

  private remember(events: KernelEvent[]): void {
    for (const e of events) this.recent.set(e.seq, e);
    while (this.recent.size > 20_000) this.recent.delete(this.recent.keys().next().value!);
  }

  /** Schedule and send now, the table's due rows included (a replay, a subscription change). */
  kick(): void {
    this.tableDue = true;
    void this.cycle().catch((err: unknown) => this.logger.error({ err }, 'webhook dispatch failed'));
  }

  /** An event committed: one scheduling pass for every commit of this turn of the event loop. */
  private wake(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      void this.cycle().catch((err: unknown) => this.logger.error({ err }, 'webhook dispatch failed'));
    });
  }

  /** Read the table again when the earliest retry we scheduled falls due. */
  private retryDueAt(atMs: number): void {
    if (this.stopped || atMs >= this.retryAt) return;
    clearTimeout(this.retryTimer);
    this.retryAt = atMs;
    this.retryTimer = setTimeout(
      () => {
        this.retryAt = Infinity;
        this.kick();
      },
      Math.max(0, atMs - this.clock.nowMs()),
    );
    this.retryTimer.unref();
  }

  private async cycle(): Promise<void> {
    if (this.stopped || !this.leadership.isLeader()) return;
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
          await this.scheduleAll();
        } while (this.scheduleAgain && !this.stopped);
      } finally {
        this.scheduling = null;
      }
    })();
    return this.scheduling;
  }

  /** One read of the events past the lowest cursor serves every subscription. */
  private async scheduleAll(): Promise<void> {
    for (;;) {
      const hooks = [...(await this.subscriptions()).values()].filter((w) => w.enabled);
      if (hooks.length === 0) return;
      const from = Math.min(...hooks.map((w) => w.cursorSeq));
      const batch = await this.events.after(from, SCHEDULE_BATCH);
      if (batch.length === 0) return;
      this.remember(batch);
      const last = batch[batch.length - 1].seq;
      const now = this.clock.nowIso();
      const plans: SchedulePlan[] = [];
      for (const w of hooks) {
        if (w.cursorSeq >= last) continue;
        const rows: WebhookDeliveryEntity[] = batch
          .filter((e) => e.seq > w.cursorSeq && matches(w, e))
          .map((e) => ({
            id: `msg_${uuidv7().replace(/-/g, '')}`,
            webhookId: w.id,
            eventSeq: e.seq,
            eventType: e.eventType,
            // Queued in memory right away, so written as taken; a crash before the send puts it
            // back to pending at the next boot (requeueInFlight).
            status: 'delivering',
            attempts: 0,
            nextAttemptAt: now,
            lastStatusCode: null,
            lastError: null,
            deliveredAt: null,
            createdAt: now,
            updatedAt: now,
          }));
        plans.push({ webhookId: w.id, rows, cursorSeq: last });
      }
      // One transaction for every subscription; only rows actually inserted are sent (a row the
      // subscription already had for an event is its own delivery, with its own id).
      const inserted = await this.repo.schedule(plans);
      for (const p of plans) {
        const w = hooks.find((h) => h.id === p.webhookId)!;
        w.cursorSeq = p.cursorSeq; // the cached row follows the stored one
        this.enqueue(p.rows.filter((r) => inserted.has(r.id)));
      }
      // Sending starts with the first batch, not once a burst has stopped arriving: while events
      // keep committing, the scheduling loop keeps going (each pass schedules what came since).
      if (!this.stopped)
        void this.pump().catch((err: unknown) => this.logger.error({ err }, 'webhook dispatch failed'));
      if (batch.length < SCHEDULE_BATCH) return;
      // More: let the sends just started reach the wire (and answers come back) first.
      await new Promise((r) => setImmediate(r));
      if (this.stopped || !this.leadership.isLeader()) return;
    }
  }

  private enqueue(rows: readonly WebhookDeliveryEntity[]): void {
    for (const d of rows) {
      let q = this.queues.get(d.webhookId);
      if (!q) this.queues.set(d.webhookId, (q = []));
      q.push(d);
    }
  }

  /**
   * Start queued deliveries up to both concurrency bounds, one per subscription in turn; the table
   * is read only when the queues are empty and it may hold due rows.
   */
  private async pump(): Promise<void> {
    const all = this.config.webhookConcurrency;
    const per = this.config.webhookSubscriptionConcurrency;
    while (
      !this.stopped &&
      this.leadership.isLeader() &&
      this.sending < all &&
      this.inFlight.size < all * UNRECORDED_FACTOR
    ) {
      if (this.queues.size === 0) {
        if (!this.tableDue) return;
        await this.refill();
        if (this.queues.size === 0) return;
      }
      const hooks = await this.subscriptions();
      let started = 0;
      for (const [id, q] of this.queues) {
        if (this.sending >= all) break;
        if ((this.busy.get(id) ?? 0) >= per) continue;
        const d = q.shift()!;
        if (q.length === 0) this.queues.delete(id);
        if (this.inFlight.has(d.id)) continue;
        const w = hooks.get(d.webhookId);
        if (!w || !w.enabled) {
          // Deleted (its rows went with it) or disabled meanwhile: hand the row back to the table.
          if (w) await this.repo.updateDelivery(d.id, { status: 'pending', updatedAt: this.clock.nowIso() });
          started++;
          continue;
        }
        this.start(w, d);
        started++;
      }
      if (started === 0) return; // every subscription with work is at its own bound
    }
  }

  /**
   * Send `d`. Its slots (the subscription's and the global one) are freed as soon as the attempt
   * has an outcome, before the ledger commits it: sending never waits on a commit. The delivery
   * stays in `inFlight` until its outcome is committed (shutdown waits for it; the row is still
   * `delivering`, so nothing takes it again meanwhile).
   */
  private start(w: WebhookEntity, d: WebhookDeliveryEntity): void {
    this.busy.set(w.id, (this.busy.get(w.id) ?? 0) + 1);
    this.sending++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.sending--;
      const n = (this.busy.get(w.id) ?? 1) - 1;
      if (n > 0) this.busy.set(w.id, n);
      else this.busy.delete(w.id);
      if (!this.stopped) void this.pump().catch(() => undefined);
    };
    const p = this.deliver(w, d, release)
      .catch((err: unknown) => this.logger.error({ err, delivery: d.id }, 'delivery failed unexpectedly'))
      .finally(() => {
        this.inFlight.delete(d.id);
        if (held) release();
        else if (!this.stopped) void this.pump().catch(() => undefined);
      });
    this.inFlight.set(d.id, p);
  }

  private refill(): Promise<void> {
    this.refilling ??= (async () => {
      try {
        this.tableDue = false;
        const hooks = [...(await this.subscriptions()).values()].filter((w) => w.enabled).map((w) => w.id);
        const due = await this.repo.due(
          hooks,
          this.clock.nowIso(),
          REFILL_BATCH,
          new Set(this.inFlight.keys()),
        );
        const taken = await this.repo.claimMany(
          due.map((d) => d.id),
          this.clock.nowIso(),
        );
        this.enqueue(due.filter((d) => taken.has(d.id)));
        if (due.length >= REFILL_BATCH) this.tableDue = true; // more where these came from
      } catch (err) {
        this.tableDue = true;
        throw err;
      } finally {
        this.refilling = null;
      }
    })();
    return this.refilling;
  }

  /** The subscription's signing key, opened and decoded once per sealed value (not once per delivery). */
  private openSecret(w: WebhookEntity): KeyObject {
    const hit = this.secrets.get(w.id);
    if (hit && hit.sealed === w.secret) return hit.key;
    const key = signingKey(this.box.open(w.secret, webhookSecretAad(w.id)));
    this.secrets.set(w.id, { sealed: w.secret, key });
    return key;
  }

  /** The delivery body of an event, serialised once for all its subscriptions. */
  private bodyOf(e: KernelEvent): string {
    let body = this.bodies.get(e.seq);
    if (body === undefined) {
      body = deliveryBody(e);
      this.bodies.set(e.seq, body);
      while (this.bodies.size > 2_000) this.bodies.delete(this.bodies.keys().next().value!);
    }
    return body;
  }

  /** Sign and POST one message to a subscription (one HMAC per attempt; the body is shared). */
  send(w: WebhookEntity, msgId: string, body: string): Promise<PostResult> {
    let refusal = this.literalRefusals.get(w.url);
    if (refusal === undefined) {
      const host = new URL(w.url).hostname.replace(/^\[|\]$/g, '');
      refusal = (isIP(host) && blockedAddress(host)) || '';
      if (this.literalRefusals.size >= 1000) this.literalRefusals.clear();
      this.literalRefusals.set(w.url, refusal);
    }
    if (refusal) return refused(`refused: ${refusal}`);
    let secret: KeyObject;
    try {
      secret = this.openSecret(w);
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      return refused(
        'the signing secret cannot be opened (sealed for another subscription, or with another HELDAR_SECRET_KEY): recreate the subscription',
      );
    }
    const headers = signedHeaders(secret, msgId, Math.floor(this.clock.nowMs() / 1000), body);
    return this.client.post(w.url, headers, body, this.config.webhookTimeoutMs);
  }

  private async deliver(w: WebhookEntity, d: WebhookDeliveryEntity, sent: () => void): Promise<void> {
    const event = this.recent.get(d.eventSeq) ?? (await this.events.listBySeqs([d.eventSeq]))[0];
    const attempt = d.attempts + 1;
    // The scope may have narrowed since this delivery was queued (a retry, a replay): judged again.
    const outside = event !== undefined && !scopeAdmits(w.cameraScope, event.cameraId);
    const result: PostResult = !event
      ? { ok: false, statusCode: null, error: 'the event no longer exists (retention)', durationMs: 0 }
      : outside
        ? { ok: false, statusCode: null, error: "outside the subscription's camera scope", durationMs: 0 }
        : await this.send(w, d.id, this.bodyOf(event));
    sent(); // the attempt is over: its slot may serve the next delivery while the ledger commits
    const nowMs = this.clock.nowMs();
    const now = new Date(nowMs).toISOString();
    const delay =
      result.ok || !event || outside ? null : retryDelayMs(this.config.webhookRetryDelaysS, attempt);
    this.outcomeCounters[result.ok ? 'delivered' : delay === null ? 'dead' : 'retrying'].inc();
    await this.repo.recordOutcome(
      {
        deliveryId: d.id,
        webhookId: w.id,
        attempt,
        ok: result.ok,
        statusCode: result.statusCode,
        error: result.error,
        durationMs: result.durationMs,
        createdAt: now,
      },
      {
        status: result.ok ? 'delivered' : delay === null ? 'dead' : 'retrying',
        attempts: attempt,
        nextAttemptAt: result.ok || delay === null ? null : new Date(nowMs + delay).toISOString(),
        lastStatusCode: result.statusCode,
        lastError: result.error,
        deliveredAt: result.ok ? now : null,
        updatedAt: now,
      },
    );
    if (!result.ok && delay !== null) this.retryDueAt(nowMs + delay);
    if (outside) return; // nothing was sent: the receiver's health is not in question
    // A success that changes nothing (no failures counted, last success noted recently) needs no
    // turn in the health chain: the common case of a burst costs no extra hops.
    if (
      result.ok &&
      !this.healthChains.has(w.id) &&
      w.consecutiveFailures === 0 &&
      !w.failing &&
      w.lastSuccessAt !== null &&
      nowMs - Date.parse(w.lastSuccessAt) <= HEALTH_NOTE_MS
    ) {
      return;
    }
    // Serialised per subscription, so concurrent outcomes count (and raise events) exactly once.
    await this.healthChains.run(w.id, () => this.health(w.id, result.ok, result.error));
  }

  /** Consecutive failures per subscription; `webhook_failing` once past the bound, then
   * `webhook_recovered`. Kept on the cached row; written only when it changes. */
  private async health(id: string, ok: boolean, error: string | null): Promise<void> {
    const w = (await this.subscriptions()).get(id);
    if (!w) return;
    const now = this.clock.nowIso();
    if (ok) {
      const wasFailing = w.failing;
      const stale = !w.lastSuccessAt || Date.parse(now) - Date.parse(w.lastSuccessAt) > HEALTH_NOTE_MS;
      if (w.consecutiveFailures === 0 && !wasFailing && !stale) return;
      Object.assign(w, { consecutiveFailures: 0, failing: false, lastSuccessAt: now });
      await this.repo.update(id, { consecutiveFailures: 0, failing: false, lastSuccessAt: now });
      if (wasFailing) {
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
    const raise = failing && !w.failing;
    Object.assign(w, { consecutiveFailures: failures, failing, lastFailureAt: now });
    await this.repo.update(id, { consecutiveFailures: failures, failing, lastFailureAt: now });
    if (raise) {
      this.logger.warn({ webhook: id, failures, error }, 'webhook keeps failing');
      await this.events.emit({
        type: 'webhook_failing',
        severity: 'warning',
        payload: { webhook_id: id, name: w.name, consecutive_failures: failures, last_error: error },
      });
    }
  }
}
