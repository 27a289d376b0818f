import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Client, type Notification } from 'pg';
import type { Subscription } from 'rxjs';
import { HeldarConfig } from '../config/heldar-config';
import { DatabaseService } from '../database/database.service';
import { EventBus, toKernelEvent } from './event-bus';
import { EVENTS_CHANNEL, EventHorizon } from './event-horizon';
import { EventsRepository } from './events.repository';

/** The notification connection's application_name (pg_stat_activity), before the node id. */
export const LISTENER_NAME = 'heldar-events';
/** Rows read per query while relaying. */
const RELAY_PAGE = 500;
/** Past this many of its own events not yet passed by the cursor, the relay reads on anyway (bound). */
const LOCAL_MAX = 4096;
/** Reconnect delays of the notification connection: doubled from the first up to the last. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/** The delay before reconnection attempt `attempt` (0-based): 250 ms doubling, at most 10 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(Math.max(attempt, 0), 16));
}

/**
 * Another channel heard on the relay's connection (e.g. CacheInvalidation's): `notified` with each
 * payload (this kernel's own included), `missed` once the connection is back after a loss (what
 * was notified meanwhile is gone: assume anything changed).
 */
export interface ChannelListener {
  notified(payload: string): void;
  missed(): void;
}

/** The seq a notification carries, or null for anything else (never thrown on). */
export function notifiedSeq(payload: string | undefined): number | null {
  if (!payload || !/^[1-9]\d{0,15}$/.test(payload)) return null;
  const seq = Number(payload);
  return Number.isSafeInteger(seq) ? seq : null;
}

/**
 * The events this kernel wrote that the relay's cursor has not passed yet, by id (known before the
 * insert, so a row committed and read back before its insert returned is still recognised) and by
 * seq (known once the insert returned: a notification of it is this kernel's own).
 */
export class LocalWrites {
  private readonly ids = new Map<string, number | null>();
  private readonly seqs = new Set<number>();
  private highest = 0;

  get size(): number {
    return this.ids.size;
  }

  /** The highest seq written here so far. */
  get maxSeq(): number {
    return this.highest;
  }

  writing(id: string): void {
    this.ids.set(id, null);
  }

  wrote(id: string, seq: number): void {
    if (!this.ids.has(id)) return;
    this.ids.set(id, seq);
    this.seqs.add(seq);
    this.highest = Math.max(this.highest, seq);
  }

  /** The insert failed: no row, no seq. */
  dropped(id: string): void {
    this.ids.delete(id);
  }

  hasId(id: string): boolean {
    return this.ids.has(id);
  }

  hasSeq(seq: number): boolean {
    return this.seqs.has(seq);
  }

  /** Forget every write at or below `cursor` (read past, or rolled back for good); in flight stay. */
  prune(cursor: number): void {
    for (const [id, seq] of this.ids) {
      if (seq !== null && seq <= cursor) {
        this.ids.delete(id);
        this.seqs.delete(seq);
      }
    }
  }
}

/**
 * Cluster (several kernels on one PostgreSQL): events committed by the OTHER nodes, on this
 * kernel's bus (`remote: true`), and this kernel's horizon readers woken by them.
 *
 * Every event insert notifies `heldar_events` with its seq (in the inserting statement; PostgreSQL
 * delivers it at commit, in commit order, never for a rollback). One dedicated connection per
 * kernel (outside the pool) listens. A burst of notifications makes one ring per tick: a fresh
 * horizon check (a move wakes the SSE streams and the webhook dispatcher, as a local commit does)
 * and, when one came from another node, a read of the table by seq after the relay's cursor, in
 * order, up to the horizon, in pages: each row this kernel did not write is published once,
 * marked remote. The cursor starts at the horizon at boot; rows are never relayed twice or skipped
 * (the horizon guarantees no lower seq commits later). A lost connection is reopened with backoff,
 * and then everything is read and rung once (notifications may have been missed meanwhile).
 * SQLite: single node, nothing runs.
 */
@Injectable()
export class EventRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('EventRelay');
  private readonly local = new LocalWrites();
  private client: Client | null = null;
  private readonly dead = new WeakSet<Client>();
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private started = false;
  /** Every event with seq ≤ cursor is relayed (or this kernel's own). */
  private cursor = 0;
  /** Relay up to here (the highest seq another node notified, or all drawn after a reconnection). */
  private target = 0;
  /** Read and ring everything once (a (re)connection: notifications may have been missed). */
  private everything = false;
  private tickQueued = false;
  private running: Promise<void> | null = null;
  private again = false;
  private horizonSub: Subscription | undefined;
  /** Other channels this connection listens on, by name. */
  private readonly channels = new Map<string, ChannelListener>();
  /** The connection was lost (or never opened) since the last (re)connection: tell the channels. */
  private missed = false;

  constructor(
    private readonly db: DatabaseService,
    private readonly repo: EventsRepository,
    private readonly horizon: EventHorizon,
    private readonly bus: EventBus,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  /** PostgreSQL only: SQLite is one node. */
  get enabled(): boolean {
    return !this.db.isSqlite;
  }

  /** True while the notification connection is open. */
  get listening(): boolean {
    return this.client !== null;
  }

  /**
   * Also listen on `channel` (a plain lower-case name) on the same connection, from the next
   * (re)connection, or at once when open. One listener per channel. PostgreSQL only (a no-op on
   * SQLite).
   */
  listen(channel: string, listener: ChannelListener): void {
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(channel) || channel === EVENTS_CHANNEL)
      throw new Error(`cannot listen on channel \`${channel}\``);
    if (this.channels.has(channel)) throw new Error(`channel \`${channel}\` has a listener already`);
    this.channels.set(channel, listener);
    const c = this.client;
    if (c) void c.query(`LISTEN ${channel}`).catch((err: unknown) => this.lost(c, err));
  }

  /** An event of this kernel is about to be inserted (its id). */
  writing(id: string): void {
    if (this.enabled) this.local.writing(id);
  }

  /** It was inserted with `seq` (its transaction may still roll back). */
  wrote(id: string, seq: number): void {
    if (!this.enabled) return;
    this.local.wrote(id, seq);
    // A node alone never reads its own rows back; past the bound the cursor moves on (prunes).
    if (this.started && this.local.size > LOCAL_MAX) {
      this.target = Math.max(this.target, this.local.maxSeq);
      this.schedule();
    }
  }

  /** Its insert failed. */
  dropped(id: string): void {
    if (this.enabled) this.local.dropped(id);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    // The cursor first: whatever commits from here on is relayed (read after the connection opens).
    this.cursor = await this.horizon.settled();
    this.started = true;
    this.horizonSub = this.horizon.advanced$.subscribe(() => {
      if (this.target > this.cursor) this.schedule();
    });
    await this.connect();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.horizonSub?.unsubscribe();
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
    await this.running?.catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const c = new Client({
      connectionString: this.config.databaseUrl,
      connectionTimeoutMillis: 10_000,
      application_name: `${LISTENER_NAME} ${this.config.nodeId}`,
    });
    c.on('notification', (n: Notification) => this.notified(n));
    c.on('error', (err) => this.lost(c, err));
    c.on('end', () => this.lost(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${EVENTS_CHANNEL}`);
      for (const channel of this.channels.keys()) await c.query(`LISTEN ${channel}`);
    } catch (err) {
      this.lost(c, err);
      return;
    }
    if (this.stopped) {
      await c.end().catch(() => undefined);
      return;
    }
    if (this.attempt > 0) this.logger.log('event notifications: connection restored');
    this.client = c;
    this.attempt = 0;
    this.everything = true;
    this.schedule();
    if (this.missed) {
      this.missed = false;
      for (const [channel, l] of this.channels) this.tell(channel, () => l.missed());
    }
  }

  /** A channel listener's call; a throw is logged, never breaks the connection's handler. */
  private tell(channel: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.logger.error({ err, channel }, 'a notification listener failed');
    }
  }

  private lost(c: Client, err?: unknown): void {
    if (this.stopped || this.dead.has(c)) return; // each client is given up once
    this.dead.add(c);
    this.missed = true;
    if (this.client === c) this.client = null;
    c.on('error', () => undefined);
    void c.end().catch(() => undefined);
    clearTimeout(this.reconnectTimer);
    const delay = reconnectDelayMs(this.attempt++);
    this.logger.warn(
      { err, retry_in_ms: delay },
      'event notifications: connection lost; events of other nodes wait until it is back',
    );
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private notified(n: Notification): void {
    if (n.channel !== EVENTS_CHANNEL) {
      const l = this.channels.get(n.channel);
      if (l) this.tell(n.channel, () => l.notified(n.payload ?? ''));
      return;
    }
    const seq = notifiedSeq(n.payload);
    // This kernel's own commit already rang its bus.
    if (seq === null || this.local.hasSeq(seq)) return;
    this.target = Math.max(this.target, seq);
    this.schedule();
  }

  /** One ring per tick, however many notifications arrived in it. */
  private schedule(): void {
    if (this.tickQueued || this.stopped) return;
    this.tickQueued = true;
    setImmediate(() => {
      this.tickQueued = false;
      this.ring();
    });
  }

  private ring(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    const p = this.relay()
      .catch((err: unknown) => {
        if (!this.stopped) this.logger.error({ err }, 'relaying the events of other nodes failed');
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
    this.running = p;
  }

  private async relay(): Promise<void> {
    const everything = this.everything;
    this.everything = false;
    // A fresh check: a move wakes every horizon reader; after a (re)connection they are woken anyway.
    if (everything) await this.horizon.ring();
    const until = await this.horizon.settled();
    if (everything) this.target = Math.max(this.target, this.horizon.drawn);
    const upTo = Math.min(this.target, until);
    while (!this.stopped && this.cursor < upTo) {
      const rows = await this.repo.after(this.cursor, RELAY_PAGE, until);
      for (const r of rows) {
        if (!this.local.hasId(r.id)) this.bus.publish({ ...toKernelEvent(r), remote: true });
      }
      this.cursor = rows.length < RELAY_PAGE ? until : rows[rows.length - 1].seq;
    }
    this.local.prune(this.cursor);
    // Still short of the target: writers open beside it hold the horizon; its move rings again.
  }
}
