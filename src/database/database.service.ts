import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { AsyncLock } from './async-lock';

/**
 * The one way services reach the store.
 *
 * TypeORM drives SQLite (better-sqlite3) through a single shared connection: two
 * interleaved transactions would silently nest (SAVEPOINTs inside someone else's BEGIN) and a
 * plain write issued while another request's transaction is open would commit or roll back
 * with it. So on SQLite every unit of work runs under one FIFO lock; better-sqlite3 is
 * synchronous, so this costs little. On PostgreSQL work runs on the pool, unlocked.
 * Work nested inside a transaction reuses that transaction's manager (AsyncLocalStorage).
 */
interface TxContext {
  manager: EntityManager;
  hooks: Array<() => void>;
}

@Injectable()
export class Database {
  private readonly lock = new AsyncLock();
  private readonly current = new AsyncLocalStorage<TxContext>();
  readonly isSqlite: boolean;

  constructor(readonly dataSource: DataSource) {
    this.isSqlite = dataSource.options.type === 'better-sqlite3';
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
