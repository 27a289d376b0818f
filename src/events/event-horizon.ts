import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { DatabaseService } from '../database/database.service';

/**
 * The advisory lock every event insert takes in shared mode (PostgreSQL): `pg_advisory_xact_lock_shared
 * (EVENT_WRITER_LOCK[0], EVENT_WRITER_LOCK[1])`, before its seq is drawn, until its transaction ends.
 * Shared: writers never wait for each other. Readers only look at who holds it (pg_locks).
 */
export const EVENT_WRITER_LOCK = [0x48454c44 /* 'HELD' */, 1] as const;

/**
 * The PostgreSQL notification channel every event insert notifies (payload: its seq), at commit:
 * how the other kernels of a cluster hear of it (EventRelay).
 */
export const EVENTS_CHANNEL = 'heldar_events';

/** While writers that may hold lower seqs are still open, the horizon is checked again this often. */
const RECHECK_MS = 25;

/**
 * A ticket: every seq up to `seq` was drawn by a transaction that was holding the writer lock when
 * `holders` was read (or had ended). Once none of `holders` holds it, every seq ≤ `seq` is settled.
 */
export interface HorizonTicket {
  seq: number;
  holders: ReadonlySet<string>;
}

export interface HorizonState {
  settled: number;
  tickets: readonly HorizonTicket[];
}

/**
 * One horizon check (pure): `last` is the sequence's last drawn value, read BEFORE `holders` (the
 * writer transactions holding the lock now). Tickets whose holders are all gone settle their seq;
 * the newest check becomes a ticket (settled at once when nobody holds the lock). At most the
 * oldest pending ticket (it guarantees progress) and the newest (freshness) are kept.
 */
export function advanceHorizon(
  state: HorizonState,
  last: number,
  holders: ReadonlySet<string>,
): HorizonState {
  let settled = state.settled;
  const pending: HorizonTicket[] = [];
  for (const t of state.tickets) {
    if ([...t.holders].some((h) => holders.has(h))) pending.push(t);
    else settled = Math.max(settled, t.seq);
  }
  if (holders.size === 0) settled = Math.max(settled, last);
  else if (last > settled) pending.push({ seq: last, holders });
  const tickets = pending.filter((t) => t.seq > settled);
  return { settled, tickets: tickets.length > 2 ? [tickets[0], tickets[tickets.length - 1]] : tickets };
}

/**
 * Where "events after seq" may be read up to without skipping one: the visibility horizon.
 *
 * Why: on PostgreSQL `seq` is a sequence drawn at insert time, not at commit. Transaction A can draw
 * 10, B draw 11 and commit first; a reader that then reads 11 and moves its cursor past it never
 * sees 10 (a webhook lost, an SSE resume that misses it). SQLite has one writer, so there seq order
 * is commit order and the horizon is unbounded.
 *
 * How (PostgreSQL): each event insert takes a shared advisory lock before drawing its seq and keeps
 * it until its transaction ends (writers do not wait for one another: no serialisation of the hot
 * path). A check reads the sequence's last value L, then which transactions hold the lock: every
 * seq ≤ L belongs to one of them or to a finished transaction, so once they have all ended (lock
 * released after commit is visible), every seq ≤ L is committed or rolled back for good. Readers
 * read only seq ≤ the settled horizon; a row above it waits at most as long as the transactions
 * that were open beside it. An xid column filtered by `pg_snapshot_xmin` alone is not enough with
 * a seq cursor: a transaction that took its xid early can draw a higher seq and commit below the
 * xmin while one with a lower seq is still open.
 */
@Injectable()
export class EventHorizon implements BeforeApplicationShutdown {
  private state: HorizonState = { settled: 0, tickets: [] };
  private running: Promise<number> | null = null;
  private queued: Promise<number> | null = null;
  private recheck: NodeJS.Timeout | undefined;
  private stopped = false;
  private sequence: string | null = null;
  private lastDrawn = 0;
  private readonly advanced = new Subject<number>();
  /** The settled horizon moved (PostgreSQL): readers waiting on it read again. */
  readonly advanced$: Observable<number> = this.advanced.asObservable();

  constructor(private readonly db: DatabaseService) {}

  /** True when seq order can differ from commit order (PostgreSQL). */
  get bounded(): boolean {
    return !this.db.isSqlite;
  }

  /**
   * The highest seq drawn so far, as the latest check saw it (PostgreSQL). Read right after
   * `settled()` resolves it covers every event committed before that call, settled or not yet: a
   * reader that must know when it has caught up with "now" waits for its cursor to pass this, not
   * for its first read of a horizon that may still lag behind writers open beside it.
   */
  get drawn(): number {
    return this.lastDrawn;
  }

  /**
   * The highest seq below which every event is committed or gone for good, from a check started
   * after this call (concurrent calls share the next check). SQLite: unbounded.
   */
  settled(): Promise<number> {
    if (!this.bounded) return Promise.resolve(Number.MAX_SAFE_INTEGER);
    if (!this.running) return this.start();
    // A check is under way (it may have begun before this call): the next one, shared by every
    // caller until it starts, so a caller waits for two checks at most.
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.start();
      });
    return this.queued;
  }

  private start(): Promise<number> {
    if (this.stopped) return Promise.resolve(this.state.settled);
    const p: Promise<number> = this.check()
      .then(() => this.state.settled)
      .finally(() => {
        if (this.running === p) this.running = null;
      });
    this.running = p;
    return p;
  }

  private async check(): Promise<void> {
    const before = this.state.settled;
    const [last, holders] = await this.db.run(async (m) => {
      this.sequence ??= String(
        (await m.query(`SELECT pg_get_serial_sequence('events', 'seq') AS s`))[0].s as string,
      );
      // The sequence first, then the holders: a seq drawn before the first read was drawn under
      // the lock, so its transaction is in the second read or has ended.
      const seq = await m.query<Array<{ last_value: string | number; is_called: boolean }>>(
        `SELECT last_value, is_called FROM ${this.sequence}`,
      );
      const held = await m.query<Array<{ vx: string }>>(
        `SELECT virtualtransaction AS vx FROM pg_locks
          WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [EVENT_WRITER_LOCK[0], EVENT_WRITER_LOCK[1]],
      );
      return [seq[0].is_called ? Number(seq[0].last_value) : 0, new Set(held.map((h) => h.vx))] as const;
    });
    this.lastDrawn = Math.max(this.lastDrawn, last);
    this.state = advanceHorizon(this.state, last, holders);
    if (this.state.settled > before) this.advanced.next(this.state.settled);
    clearTimeout(this.recheck);
    // Open writers may settle without anyone here hearing of it (a rollback, another process).
    if (this.state.tickets.length > 0 && !this.stopped) {
      this.recheck = setTimeout(() => void this.settled().catch(() => undefined), RECHECK_MS);
      this.recheck.unref();
    }
  }

  /**
   * Wake every horizon reader (SSE streams, the webhook dispatcher) once after a fresh check, moved
   * or not: events may have committed while nobody here could hear of them (the cluster's
   * notification connection was down).
   */
  async ring(): Promise<void> {
    const settled = await this.settled();
    this.advanced.next(settled);
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.recheck);
  }
}
