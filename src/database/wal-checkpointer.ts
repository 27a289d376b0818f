import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { HeldarConfig } from '../config/heldar-config';
import { DatabaseService } from './database.service';

/**
 * WAL pages after which the kernel's own connection still checkpoints inline (SQLite's default
 * is 1,000). The WAL starts over only when a write begins with every frame copied back, a moment
 * a busy writer rarely leaves the checkpointer; the commit that crosses this many pages makes one
 * (copying only what the checkpointer has not yet, so a short pass), once per 40 MiB of WAL
 * instead of a full pass per 4 MiB.
 */
export const INLINE_CHECKPOINT_PAGES = 10_000;
/** SQLite's default, restored when the checkpointer stops. */
const SQLITE_DEFAULT_CHECKPOINT_PAGES = 1000;
/** Between passes while the WAL grows, and once it has stopped growing. */
const BUSY_MS = 50;
const IDLE_MS = 1000;
/** The thread starts once the WAL file reaches SQLite's own checkpoint size (1,000 pages)... */
const START_AT_WAL_BYTES = 4_000_000;
/** ...checked every this many group commits. */
const CHECK_EVERY_COMMITS = 32;

export interface CheckpointResult {
  /** Frames in the WAL, and how many of them are in the database file now. */
  log: number;
  checkpointed: number;
}

/**
 * The checkpointer's own thread: a second connection that copies the WAL back into the database
 * file (PASSIVE: never waits for, never blocks, the kernel's writer). Plain JavaScript, evaluated
 * in the worker: the bundle is one file, and the driver is resolved by the main thread.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Driver = require(workerData.driver);
const db = new Driver(workerData.path, { timeout: 0 });
let timer = null;
let prevLog = -1;
function checkpoint(mode) {
  const r = db.pragma('wal_checkpoint(' + mode + ')')[0];
  return { log: Number(r.log), checkpointed: Number(r.checkpointed) };
}
function pass() {
  return checkpoint('PASSIVE');
}
function loop() {
  let next = workerData.idleMs;
  try {
    const r = pass();
    if (r.log !== r.checkpointed || r.log !== prevLog) next = workerData.busyMs;
    prevLog = r.log;
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
  timer = setTimeout(loop, next);
}
parentPort.on('message', (m) => {
  if (m.op === 'close') {
    clearTimeout(timer);
    db.close();
    parentPort.postMessage({ id: m.id, closed: true });
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage({ id: m.id, result: pass() });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
timer = setTimeout(loop, workerData.busyMs);
`;

type Reply = { id?: number; result?: CheckpointResult; error?: string; closed?: boolean };

/**
 * SQLite only: WAL checkpoints off the event loop. By default SQLite checkpoints inside the COMMIT
 * that crosses 1,000 WAL pages: under ingest load that was a 25-45 ms stall of the whole kernel
 * (copy the pages, fsync the file) several times a second, the largest part of ingest's tail
 * latency. Here a worker thread with its own connection checkpoints as the WAL grows, and the
 * kernel's connection keeps an inline checkpoint only as a far backstop.
 */
@Injectable()
export class WalCheckpointer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WalCheckpointer');
  private worker?: Worker;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  /** Pass intervals while the WAL grows and once it is still (read when the thread starts). */
  readonly schedule = { busyMs: BUSY_MS, idleMs: IDLE_MS };
  private commits = 0;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly db: DatabaseService,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  /**
   * The thread costs ~10 MiB: it starts only once the WAL has grown past what SQLite would have
   * checkpointed inline (a kernel writing little keeps SQLite's own checkpoints and no thread).
   */
  onApplicationBootstrap(): void {
    if (!this.config.isSqlite || this.config.sqlitePath === ':memory:') return;
    this.db.onGroupCommit(() => {
      if (this.worker || this.stopped || ++this.commits % CHECK_EVERY_COMMITS !== 0) return;
      try {
        if (statSync(`${this.config.sqlitePath}-wal`).size >= START_AT_WAL_BYTES) this.start();
      } catch {
        /* no WAL yet */
      }
    });
  }

  /** Start the checkpointer thread now (SQLite only; once). */
  start(): void {
    if (!this.config.isSqlite || this.config.sqlitePath === ':memory:' || this.worker) return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: require.resolve('better-sqlite3'),
        path: this.config.sqlitePath,
        busyMs: this.schedule.busyMs,
        idleMs: this.schedule.idleMs,
      },
    });
    worker.unref();
    worker.on('message', (m: Reply) => {
      if (m.id === undefined) {
        if (m.error) this.logger.warn(`checkpoint failed: ${m.error}`);
        return;
      }
      this.pending.get(m.id)?.resolve(m);
      this.pending.delete(m.id);
    });
    worker.on('error', (err) => {
      this.logger.error({ err }, 'checkpointer stopped; the store checkpoints inline again');
      this.inlinePages(SQLITE_DEFAULT_CHECKPOINT_PAGES);
      this.worker = undefined;
    });
    worker.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('the checkpointer exited'));
      this.pending.clear();
    });
    this.worker = worker;
    this.inlinePages(INLINE_CHECKPOINT_PAGES);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    this.inlinePages(SQLITE_DEFAULT_CHECKPOINT_PAGES);
    await this.ask(worker, 'close').catch(() => undefined);
    await worker.terminate();
  }

  /** One checkpoint pass now, on the checkpointer's thread (null when there is none). */
  async checkpointNow(): Promise<CheckpointResult | null> {
    if (!this.worker) return null;
    const reply = await this.ask(this.worker, 'checkpoint');
    if (reply.error) throw new Error(reply.error);
    return reply.result ?? null;
  }

  private ask(worker: Worker, op: 'checkpoint' | 'close'): Promise<Reply> {
    const id = ++this.seq;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ op, id });
    });
  }

  /** The kernel connection's inline checkpoint threshold. */
  private inlinePages(pages: number): void {
    if (!this.dataSource.isInitialized) return;
    const conn = (this.dataSource.driver as unknown as { databaseConnection?: BetterSqlite3.Database })
      .databaseConnection;
    conn?.pragma(`wal_autocheckpoint = ${pages}`);
  }
}
