import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { DatabaseService } from '../database/database.service';
import type { Unsubscribe } from './event-bus';
import { EventRelay } from './event-relay';

/** The PostgreSQL channel a change to cached rows is announced on (payload: see `invalidationPayload`). */
export const CACHES_CHANNEL = 'heldar_caches';

/**
 * What changed within a scope, as the publisher names it (e.g. `{ camera: 'cam_1', zone: 'zone_2' }`):
 * string values only. A handler given `null` must assume anything in its scope changed.
 */
export type CacheKeys = Readonly<Record<string, string>>;

/** A cache's reaction to a change (its own node's or another's); may be async; failures are logged. */
export type CacheHandler = (keys: CacheKeys | null) => void | Promise<void>;

export interface Invalidation {
  /** The kernel instance that published it. */
  origin: string;
  scope: string;
  keys: CacheKeys;
}

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; ours stay far below. */
const MAX_PAYLOAD = 7900;
const SCOPE = /^[a-z][a-z0-9_]{0,63}$/;

/** The NOTIFY payload of an invalidation; keys too long for one name the whole scope (`k: null`). */
export function invalidationPayload(inv: Invalidation): string {
  const full = JSON.stringify({ o: inv.origin, s: inv.scope, k: inv.keys });
  return full.length < MAX_PAYLOAD ? full : JSON.stringify({ o: inv.origin, s: inv.scope, k: null });
}

/**
 * An invalidation read from a notification (pure, never throws): null for anything that is not
 * one; `keys` null when the publisher sent the whole scope.
 */
export function parseInvalidation(
  payload: string,
): { origin: string; scope: string; keys: CacheKeys | null } | null {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const { o, s, k } = v as { o?: unknown; s?: unknown; k?: unknown };
  if (typeof o !== 'string' || o === '' || typeof s !== 'string' || !SCOPE.test(s)) return null;
  if (k === null) return { origin: o, scope: s, keys: null };
  if (typeof k !== 'object' || Array.isArray(k)) return null;
  const keys: Record<string, string> = {};
  for (const [name, value] of Object.entries(k as Record<string, unknown>)) {
    if (typeof value !== 'string') return null;
    keys[name] = value;
  }
  return { origin: o, scope: s, keys };
}

/**
 * Caches of database state kept in memory (zones, recording and snapshot schedules, sites …) stay
 * right on every node of a cluster.
 *
 * A module whose rows are cached announces a committed change: `publish(scope, keys)`. Every
 * handler of that scope (`on`), in any module, runs on this node at once and, on PostgreSQL, on
 * every other node when the notification (`heldar_caches`, on EventRelay's connection) arrives,
 * within milliseconds. The publisher never learns who caches what; a cache never reads another
 * module's tables (its handler calls its own code). After the notification connection was lost,
 * every handler is called with `null` (changes may have been missed: reload). SQLite (one node):
 * local handlers only, no query.
 *
 * Call `publish` after the change has committed (after the `transaction()` that made it): the
 * handlers re-read the rows. Inside a transaction it still works: the notification is sent by
 * that transaction (delivered at its commit, never on rollback) and the local handlers run after
 * the commit.
 */
@Injectable()
export class CacheInvalidation {
  private readonly logger = new Logger('CacheInvalidation');
  /** This kernel instance (two test kernels may share one process and one node id). */
  private readonly origin = randomBytes(8).toString('hex');
  private readonly handlers = new Map<string, Array<{ handler: CacheHandler; name: string }>>();

  constructor(
    private readonly db: DatabaseService,
    relay: EventRelay,
  ) {
    relay.listen(CACHES_CHANNEL, {
      notified: (payload) => this.heard(payload),
      missed: () => {
        for (const scope of this.handlers.keys()) void this.run(scope, null);
      },
    });
  }

  /** Call `handler` for every change published in `scope`, here or on another node. */
  on(scope: string, handler: CacheHandler, name = scope): Unsubscribe {
    if (!SCOPE.test(scope)) throw new Error(`cache scope \`${scope}\` is not a plain lower-case name`);
    const list = this.handlers.get(scope) ?? [];
    const entry = { handler, name };
    list.push(entry);
    this.handlers.set(scope, list);
    return () => {
      const i = list.indexOf(entry);
      if (i !== -1) list.splice(i, 1);
    };
  }

  /**
   * Announce a committed change in `scope`: this node's handlers have run when this resolves
   * (outside a transaction); the other nodes' run when the notification reaches them. Never
   * rejects: the change is committed; a notification that cannot be sent is logged.
   */
  async publish(scope: string, keys: CacheKeys = {}): Promise<void> {
    if (!SCOPE.test(scope)) throw new Error(`cache scope \`${scope}\` is not a plain lower-case name`);
    const notify = this.db.isSqlite ? Promise.resolve() : this.notify(scope, keys);
    if (this.db.inTransaction) {
      this.db.afterCommit(() => void this.run(scope, keys));
      await notify;
      return;
    }
    await Promise.all([notify, this.run(scope, keys)]);
  }

  private async notify(scope: string, keys: CacheKeys): Promise<void> {
    const payload = invalidationPayload({ origin: this.origin, scope, keys });
    try {
      await this.db.run((m) => m.query('SELECT pg_notify($1, $2)', [CACHES_CHANNEL, payload]));
    } catch (err) {
      this.logger.error(
        { err, scope, keys },
        'could not tell the other nodes of a change: their caches of it stay stale until they reconnect or restart',
      );
    }
  }

  private heard(payload: string): void {
    const inv = parseInvalidation(payload);
    if (!inv) {
      this.logger.warn({ payload: payload.slice(0, 200) }, 'ignored a malformed cache notification');
      return;
    }
    if (inv.origin === this.origin) return; // ran here when published
    void this.run(inv.scope, inv.keys);
  }

  /** Every handler of `scope`, each on its own: one failing never stops the others. */
  private async run(scope: string, keys: CacheKeys | null): Promise<void> {
    const list = [...(this.handlers.get(scope) ?? [])];
    await Promise.all(
      list.map(async ({ handler, name }) => {
        try {
          await handler(keys);
        } catch (err) {
          this.logger.error({ err, scope, keys, handler: name }, 'a cache invalidation handler failed');
        }
      }),
    );
  }
}
