import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type BetterSqlite3 from 'better-sqlite3';
import { DataSource, type EntityManager, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { AsyncLock } from './async-lock';

/** At most this many queued units share one group-commit transaction. */
const GROUP_MAX = 256;

/**
 * The one way services reach the store.
 *
 * TypeORM drives SQLite (better-sqlite3) through a single shared connection: two
 * interleaved transactions would silently nest (SAVEPOINTs inside someone else's BEGIN) and a
 * plain write issued while another request's transaction is open would commit or roll back
 * with it. So on SQLite every unit of work runs under one FIFO lock; better-sqlite3 is
 * synchronous, so this costs little. On PostgreSQL work runs on the pool, unlocked.
 * Work nested inside a transaction reuses that transaction's manager (AsyncLocalStorage).
 *
 * Hot paths have two more tools: `batch()` (group commit: concurrent units share one
 * transaction, each in its own savepoint) and, on SQLite, `prepared()` (a better-sqlite3
 * statement prepared once, run on the same connection under the same lock).
 */
/** The part of pg's Pool that `select()` uses. */
interface PgPool {
  query<T>(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: T[] }>;
}

/** `?` placeholders numbered for PostgreSQL (`$1`, `$2`, …), converted once per statement. */
const pgSql = new Map<string, string>();
export function numbered(sql: string): string {
  let out = pgSql.get(sql);
  if (out === undefined) {
    let i = 0;
    out = sql.replace(/\?/g, () => `$${++i}`);
    pgSql.set(sql, out);
  }
  return out;
}

interface TxContext {
  manager: EntityManager;
  hooks: Array<() => void>;
  /** Savepoints opened by `isolated()` around this context (0 for a transaction or a batch unit). */
  depth?: number;
}

interface Queued {
  run: (store: TxContext) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; value: unknown; hooks: Array<() => void> } | { ok: false; error: unknown };

@Injectable()
export class DatabaseService {
  private readonly lock = new AsyncLock();
  private readonly current = new AsyncLocalStorage<TxContext>();
  readonly isSqlite: boolean;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  /** PostgreSQL: the name of each statement `select()` prepared (by its numbered SQL). */
  private readonly pgNames = new Map<string, string>();
  private readonly queue: Queued[] = [];
  private draining = false;
  private readonly groupCommitted: Array<() => void> = [];

  constructor(readonly dataSource: DataSource) {
    this.isSqlite = dataSource.options.type === 'better-sqlite3';
  }

  /**
   * A better-sqlite3 statement for `sql`, prepared once (SQLite only). Run it only inside
   * `run()`, `transaction()` or `batch()`: the connection is TypeORM's, so the statement joins
   * whatever transaction holds the lock. TypeORM's per-call cost (query building, metadata,
   * transformers) is most of a small write; hot paths skip it this way.
   */
  prepared(sql: string): BetterSqlite3.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      if (!this.isSqlite) throw new Error('prepared statements are SQLite-only');
      const conn = (this.dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database })
        .databaseConnection;
      stmt = conn.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Call `cb` after each group commit (`batch()`); e.g. to watch the WAL grow. */
  onGroupCommit(cb: () => void): void {
    this.groupCommitted.push(cb);
  }

  /**
   * Group commit: run `fn` in a transaction shared with the other units queued meanwhile, each in
   * its own savepoint. A unit that throws rolls back to its savepoint and rejects its caller alone;
   * the others commit. Every caller is answered only after the COMMIT that holds its unit (or with
   * its error when that commit fails), and a unit's afterCommit hooks run only if it committed.
   * Units run one after another in queue order. Inside a transaction, `fn` joins it (like
   * `transaction()`).
   */
  batch<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    const inTx = this.current.getStore();
    if (inTx) return fn(inTx.manager);
    return new Promise<T>((resolve, reject) => {
      // Run in the caller's async context (request id, logging), with the group's transaction.
      const caller = new AsyncResource('HeldarBatchUnit');
      const run = (store: TxContext) =>
        caller.runInAsyncScope(() => this.current.run(store, () => fn(store.manager)));
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        // After this turn of the event loop: requests read in the same turn join the same commit.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        let group: Queued[] = [];
        const outcomes: Outcome[] = [];
        try {
          await this.transaction(async (m) => {
            // Taken once the lock is ours: whatever queued while we waited joins this commit.
            group = this.queue.splice(0, GROUP_MAX);
            for (const unit of group) outcomes.push(await this.unit(m, unit));
          });
        } catch (err) {
          if (group.length === 0) group = this.queue.splice(0, GROUP_MAX);
          for (const unit of group) unit.reject(err); // the commit failed: nothing was acknowledged
          continue;
        }
        for (const cb of this.groupCommitted) cb();
        group.forEach((unit, i) => {
          const o = outcomes[i];
          if (o.ok) {
            for (const hook of o.hooks) hook();
            unit.resolve(o.value);
          } else unit.reject(o.error);
        });
        if (this.queue.length > 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.draining = false;
    }
  }

  private async unit(m: EntityManager, unit: Queued): Promise<Outcome> {
    const hooks: Array<() => void> = [];
    await this.savepoint(m, 'SAVEPOINT heldar_unit');
    try {
      const value = await unit.run({ manager: m, hooks });
      await this.savepoint(m, 'RELEASE SAVEPOINT heldar_unit');
      return { ok: true, value, hooks };
    } catch (error) {
      await this.savepoint(m, 'ROLLBACK TO SAVEPOINT heldar_unit');
      await this.savepoint(m, 'RELEASE SAVEPOINT heldar_unit');
      return { ok: false, error };
    }
  }

  private async savepoint(m: EntityManager, sql: string): Promise<void> {
    if (this.isSqlite) this.prepared(sql).run();
    else await m.query(sql);
  }

  /**
   * Inside a transaction (or a `batch()` unit): run `fn` in its own savepoint, so that when it
   * throws, its writes are rolled back and its afterCommit hooks dropped while the enclosing work
   * goes on (the error is rethrown). Outside one: `transaction(fn)`.
   */
  async isolated<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    const outer = this.current.getStore();
    if (!outer) return this.transaction(fn);
    const inner: TxContext = { manager: outer.manager, hooks: [], depth: (outer.depth ?? 0) + 1 };
    const name = `heldar_isolated_${inner.depth}`;
    await this.savepoint(outer.manager, `SAVEPOINT ${name}`);
    let value: T;
    try {
      value = await this.current.run(inner, () => fn(outer.manager));
    } catch (err) {
      await this.savepoint(outer.manager, `ROLLBACK TO SAVEPOINT ${name}`);
      await this.savepoint(outer.manager, `RELEASE SAVEPOINT ${name}`);
      throw err;
    }
    await this.savepoint(outer.manager, `RELEASE SAVEPOINT ${name}`);
    outer.hooks.push(...inner.hooks);
    return value;
  }

  /**
   * The rows of a read written with `?` placeholders, without TypeORM's per-call cost (query
   * runner, logging, hydration): on SQLite a statement prepared once (under the lock); on
   * PostgreSQL a named prepared statement run on the pool (parsed once per connection, one round
   * trip), or the same SQL through the transaction's manager inside one. Hot reads go this way.
   */
  async select<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    if (this.isSqlite) return this.run(async () => this.prepared(sql).all(...params) as T[]);
    const text = numbered(sql);
    const inTx = this.current.getStore();
    if (inTx) return inTx.manager.query<T[]>(text, [...params]);
    let name = this.pgNames.get(text);
    if (name === undefined) this.pgNames.set(text, (name = `heldar_${this.pgNames.size + 1}`));
    const pool = (this.dataSource.driver as unknown as { master: PgPool }).master;
    return (await pool.query<T>({ name, text, values: [...params] })).rows;
  }

  /** Run `fn` with a manager (autocommit per statement). */
  async run<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    const inTx = this.current.getStore();
    if (inTx) return fn(inTx.manager);
    if (!this.isSqlite) return fn(this.dataSource.manager);
    return this.lock.run(() => fn(this.dataSource.manager));
  }

  /** Run `fn` in one transaction; nested calls join the outer one. */
  async transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    const inTx = this.current.getStore();
    if (inTx) return fn(inTx.manager);
    const hooks: Array<() => void> = [];
    const work = () =>
      this.dataSource.transaction((manager) => this.current.run({ manager, hooks }, () => fn(manager)));
    const result = await (this.isSqlite ? this.lock.run(work) : work());
    for (const hook of hooks) hook(); // committed: now others may see it
    return result;
  }

  /** Run `cb` once the current transaction commits (never if it rolls back); at once outside one. */
  afterCommit(cb: () => void): void {
    const tx = this.current.getStore();
    if (tx) tx.hooks.push(cb);
    else cb();
  }

  /** True inside `transaction()`. */
  get inTransaction(): boolean {
    return this.current.getStore() !== undefined;
  }

  /**
   * Delete every row of `entity` matching `where` (SQL over alias `x`), `batch` rows per statement,
   * so a large prune never holds the store for long. Returns how many rows went.
   */
  async deleteInBatches(
    entity: EntityTarget<ObjectLiteral>,
    key: string,
    where: string,
    params: ObjectLiteral,
    batch = 5000,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.run(async (m) => {
        const sub = m
          .getRepository(entity)
          .createQueryBuilder('x')
          .select(`x.${key}`)
          .where(where, params)
          .limit(batch);
        const res = await m
          .createQueryBuilder()
          .delete()
          .from(entity)
          .where(`${key} IN (${sub.getQuery()})`)
          .setParameters(sub.getParameters())
          .execute();
        return res.affected ?? 0;
      });
      total += n;
      if (n < batch) return total;
    }
  }

  /** `SELECT 1` within `timeoutMs` (readiness). */
  async ping(timeoutMs = 2000): Promise<boolean> {
    if (!this.dataSource.isInitialized) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const probe = this.run((m) => m.query('SELECT 1')).then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
