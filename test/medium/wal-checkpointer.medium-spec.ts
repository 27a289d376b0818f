import { statSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { openDataSource } from '../../src/database/data-source';
import { ENTITIES } from '../../src/app.entities';
import { DatabaseService } from '../../src/database/database.service';
import { INLINE_CHECKPOINT_PAGES, WalCheckpointer } from '../../src/database/wal-checkpointer';
import { waitFor } from '../support/test-app';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

const PAGE = 4096;
const HOUR = 3_600_000;

describe(`WAL checkpoints off the event loop (${ENGINE})`, () => {
  let store: TestStore;
  let ds: DataSource;
  let db: DatabaseService;

  beforeAll(async () => {
    store = await createTestStore();
    ds = await openDataSource(store.config, ENTITIES);
    db = new DatabaseService(ds);
    if (ENGINE === 'sqlite')
      await db.run((m) => m.query('CREATE TABLE ckpt_probe (id INTEGER PRIMARY KEY, blob BLOB)'));
  });

  afterAll(async () => {
    await ds.destroy();
    await store.cleanup();
  });

  /** `pages` WAL pages of rows, in commits of 500 (SQLite's default checkpoints inside the one past 1,000). */
  async function write(pages: number): Promise<void> {
    const blob = Buffer.alloc(PAGE - 200, 7);
    for (let done = 0; done < pages; done += 500) {
      await db.transaction(async () => {
        const ins = db.prepared('INSERT INTO ckpt_probe (blob) VALUES (?)');
        for (let i = 0; i < 500; i++) ins.run(blob);
      });
    }
  }
  const autocheckpoint = async () =>
    Number((await db.run((m) => m.query('PRAGMA wal_autocheckpoint')))[0].wal_autocheckpoint);

  if (ENGINE === 'postgres') {
    it('PostgreSQL has no checkpointer of ours (the server checkpoints)', async () => {
      const c = new WalCheckpointer(ds, db, store.config);
      c.start();
      expect(await c.checkpointNow()).toBeNull();
      await c.onApplicationShutdown();
    });
    return;
  }

  it("a store writing little keeps SQLite's own checkpoints and no thread; a WAL past 1,000 pages of group commits starts it", async () => {
    const c = new WalCheckpointer(ds, db, store.config);
    c.onApplicationBootstrap();
    try {
      const blob = Buffer.alloc(PAGE - 200, 7);
      const group = (pages: number) =>
        db.batch(async () => {
          const ins = db.prepared('INSERT INTO ckpt_probe (blob) VALUES (?)');
          for (let i = 0; i < pages; i++) ins.run(blob);
        });
      for (let i = 0; i < 64; i++) await group(1);
      expect(await c.checkpointNow()).toBeNull();
      expect(await autocheckpoint()).toBe(1000);
      for (let i = 0; i < 64; i++) await group(40);
      expect(await c.checkpointNow()).toEqual(expect.objectContaining({ log: expect.any(Number) }));
      expect(await autocheckpoint()).toBe(INLINE_CHECKPOINT_PAGES);
    } finally {
      await c.onApplicationShutdown();
    }
  });

  it('a commit past 1,000 WAL pages copies nothing into the database file inline; the checkpointer copies it all, on its own thread', async () => {
    const c = new WalCheckpointer(ds, db, store.config);
    c.schedule.busyMs = c.schedule.idleMs = HOUR; // only the passes this test asks for
    c.start();
    try {
      await c.checkpointNow();
      const file = store.config.sqlitePath;
      const before = statSync(file).size;
      expect(await autocheckpoint()).toBe(INLINE_CHECKPOINT_PAGES);

      await write(1500);
      expect(statSync(file).size - before).toBeLessThan(100 * PAGE);

      const r = await c.checkpointNow();
      expect(r).toEqual({ log: expect.any(Number), checkpointed: expect.any(Number) });
      expect(r!.checkpointed).toBe(r!.log);
      expect(statSync(file).size - before).toBeGreaterThan(1400 * PAGE);
    } finally {
      await c.onApplicationShutdown();
    }
    // Stopped: the kernel connection checkpoints inline again, as SQLite does by default.
    expect(await autocheckpoint()).toBe(1000);
  });

  it('a WAL it has copied back whole starts over at the next write (it does not grow without bound)', async () => {
    const c = new WalCheckpointer(ds, db, store.config);
    c.schedule.busyMs = c.schedule.idleMs = HOUR;
    c.start();
    try {
      await write(2500);
      const full = await c.checkpointNow();
      expect(full!.log).toBeGreaterThanOrEqual(2500);
      await write(500); // the first write after it starts the WAL over
      const next = await c.checkpointNow();
      expect(next!.log).toBeLessThan(1000);
      expect(next!.checkpointed).toBe(next!.log);
    } finally {
      await c.onApplicationShutdown();
    }
  });

  it('keeps up by itself while the WAL grows, and is gone after shutdown', async () => {
    const c = new WalCheckpointer(ds, db, store.config);
    c.start();
    c.start(); // once only
    const file = store.config.sqlitePath;
    const before = statSync(file).size;
    await write(1500);
    await waitFor(async () => statSync(file).size - before > 1400 * PAGE, 10_000, 'the background pass');
    await c.onApplicationShutdown();
    expect(await c.checkpointNow()).toBeNull();
    const [{ n }] = await db.run((m) => m.query('SELECT COUNT(*) AS n FROM ckpt_probe'));
    expect(Number(n)).toBe(64 + 64 * 40 + 6000);
  });
});
