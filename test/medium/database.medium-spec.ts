import { chmodSync, closeSync, openSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { MIGRATIONS } from '../../migrations';
import { WebhookCameraScope1765000000000 } from '../../migrations/1765000000000-webhook-camera-scope';
import { ModuleLifecycle1765800000000 } from '../../migrations/1765800000000-module-lifecycle';
import { ApiKeyEntity } from '../../src/auth/entities/api-key.entity';
import { SidecarEntity } from '../../src/sidecars/entities/sidecar.entity';
import { WebhookEntity } from '../../src/webhooks/entities/webhook.entity';
import { DataSource } from 'typeorm';
import { BadRequestError, ConflictError } from '../../src/common/errors';
import { openDataSource, schemaDrift } from '../../src/database/data-source';
import { ENTITIES } from '../../src/app.entities';
import { DatabaseService } from '../../src/database/database.service';
import { mapDriverError } from '../../src/common/driver-errors';
import { EventEntity } from '../../src/events/entities/event.entity';
import { CameraEntity } from '../../src/cameras/entities/camera.entity';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

const event = (i: number): Omit<EventEntity, 'seq'> => ({
  id: `e-${i}-${Math.random()}`,
  cameraId: `cam${i % 8}`,
  siteId: null,
  eventType: 'test_write',
  severity: 'info',
  timestamp: new Date().toISOString(),
  payload: { i },
  createdAt: new Date().toISOString(),
});

const camera = (id: string, siteId: string | null = null): CameraEntity => ({
  id,
  siteId,
  name: id,
  vendor: 'generic',
  model: null,
  address: null,
  rtspPort: null,
  channel: 1,
  username: null,
  password: null,
  mainStreamUrl: null,
  subStreamUrl: null,
  urlTemplate: null,
  recordStream: 'main',
  recordEnabled: true,
  recordMode: 'continuous',
  preRollSeconds: 10,
  postRollSeconds: 30,
  segmentSeconds: 60,
  retentionHours: 24,
  storageQuotaBytes: null,
  recordAudio: false,
  enabled: true,
  priority: 100,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe(`database (${ENGINE})`, () => {
  let store: TestStore;
  let ds: DataSource;
  let db: DatabaseService;

  beforeAll(async () => {
    store = await createTestStore();
    ds = await openDataSource(store.config, ENTITIES);
    db = new DatabaseService(ds);
  });

  afterAll(async () => {
    await ds.destroy();
    await store.cleanup();
  });

  it('applies every migration and the schema matches the entities (no drift)', async () => {
    const applied: Array<{ name: string }> = await ds.query('SELECT name FROM migrations');
    expect(applied.map((r) => r.name)).toEqual(MIGRATIONS.map((M) => new M().name));
    expect(await schemaDrift(ds)).toEqual([]);
  });

  it('re-running migrations is a no-op', async () => {
    expect(await ds.runMigrations()).toEqual([]);
  });

  if (ENGINE === 'postgres') {
    it('three kernels opening one new database at once (a cluster started together) all migrate it', async () => {
      const fresh = await createTestStore();
      try {
        const opened = await Promise.allSettled([0, 1, 2].map(() => openDataSource(fresh.config, ENTITIES)));
        const ok = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
        try {
          expect(opened.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual([
            'ok',
            'ok',
            'ok',
          ]);
          const applied: Array<{ name: string }> = await ok[0].query('SELECT name FROM migrations');
          expect(applied.map((r) => r.name)).toEqual(MIGRATIONS.map((M) => new M().name));
        } finally {
          await Promise.all(ok.map((d) => d.destroy()));
        }
      } finally {
        await fresh.cleanup();
      }
    });
  }

  if (ENGINE === 'sqlite') {
    it('the database file and its WAL/SHM are owner-only (0600), like secret.key', async () => {
      await ds.query('CREATE TABLE IF NOT EXISTS mode_probe (x integer)');
      const path = store.config.sqlitePath;
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        expect({ file, mode: (statSync(file).mode & 0o777).toString(8) }).toEqual({ file, mode: '600' });
      }
    });

    it('an existing database file left 0644 (older versions) is narrowed to 0600 at open', async () => {
      const other = await createTestStore();
      try {
        const path = other.config.sqlitePath;
        closeSync(openSync(path, 'w', 0o644));
        chmodSync(path, 0o644);
        const opened = await openDataSource(other.config, ENTITIES);
        await opened.destroy();
        expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
      } finally {
        await other.cleanup();
      }
    });

    it('sets the SQLite pragmas: WAL, synchronous=NORMAL, busy_timeout 15 s, foreign keys on', async () => {
      const one = async (sql: string) => Object.values((await ds.query(sql))[0] as object)[0];
      expect(await one('PRAGMA journal_mode')).toBe('wal');
      expect(await one('PRAGMA synchronous')).toBe(1);
      expect(await one('PRAGMA busy_timeout')).toBe(15000);
      expect(await one('PRAGMA foreign_keys')).toBe(1);
    });
  }

  it('64 concurrent writers see zero errors and every row lands', async () => {
    const before = await db.run((m) => m.count(EventEntity));
    const results = await Promise.allSettled(
      Array.from({ length: 64 }, (_, i) =>
        db.transaction(async (m) => {
          await m.getRepository(EventEntity).insert(event(i));
          await new Promise((r) => setImmediate(r)); // yield mid-transaction
          await m.getRepository(EventEntity).insert(event(i + 1000));
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await db.run((m) => m.count(EventEntity))) - before).toBe(128);
  });

  if (ENGINE === 'sqlite') {
    // better-sqlite3 is synchronous: a second connection must live on another thread (as another
    // process would), or its busy wait would block the very event loop that holds the lock.
    it('another thread writing the same file concurrently waits instead of failing (busy_timeout)', async () => {
      const before = await db.run((m) => m.count(EventEntity));
      const worker = new Worker(
        `const DatabaseService = require('better-sqlite3');
         const { workerData, parentPort } = require('node:worker_threads');
         const db = new DatabaseService(workerData.path, { timeout: 15000 });
         db.pragma('journal_mode = WAL'); db.pragma('busy_timeout = 15000');
         const ins = db.prepare("INSERT INTO events (id, event_type, timestamp, created_at) VALUES (?, 'other_thread', ?, ?)");
         let errors = 0;
         for (let i = 0; i < 200; i++) {
           try { db.transaction(() => { for (let j = 0; j < 5; j++) ins.run('w-' + i + '-' + j, 't', 't'); })(); }
           catch (e) { errors++; }
         }
         parentPort.postMessage(errors);`,
        { eval: true, workerData: { path: store.config.sqlitePath } },
      );
      const workerErrors = new Promise<number>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      const results = await Promise.allSettled(
        Array.from({ length: 64 }, (_, i) =>
          db.transaction((m) => m.getRepository(EventEntity).insert(event(5000 + i) as EventEntity)),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(await workerErrors).toBe(0);
      await worker.terminate();
      expect((await db.run((m) => m.count(EventEntity))) - before).toBe(64 + 1000);
    });
  }

  it('a rolled-back transaction does not take a concurrent plain write with it', async () => {
    const a = db.transaction(async (m) => {
      await m.getRepository(EventEntity).insert({ ...event(1), id: 'rollback-me' });
      await new Promise((r) => setTimeout(r, 30));
      throw new Error('boom');
    });
    const b = db.run((m) => m.getRepository(EventEntity).insert({ ...event(2), id: 'keep-me' }));
    await expect(a).rejects.toThrow('boom');
    await b;
    const ids = (
      await db.run((m) => m.find(EventEntity, { where: [{ id: 'rollback-me' }, { id: 'keep-me' }] }))
    ).map((e) => e.id);
    expect(ids).toEqual(['keep-me']);
  });

  it('select(): a prepared read answers the same rows each time, and inside a transaction sees its own uncommitted rows', async () => {
    const sql = 'SELECT id, name FROM cameras WHERE id >= ? AND id < ? ORDER BY id';
    await db.run((m) => m.getRepository(CameraEntity).insert([camera('sel-a'), camera('sel-b')]));
    for (let i = 0; i < 7; i++) {
      // PostgreSQL: the named statement is parsed once per connection and then reused.
      expect(await db.select(sql, ['sel-', 'sel-~'])).toEqual([
        { id: 'sel-a', name: 'sel-a' },
        { id: 'sel-b', name: 'sel-b' },
      ]);
    }
    await db
      .transaction(async (m) => {
        await m.getRepository(CameraEntity).insert(camera('sel-c'));
        expect((await db.select<{ id: string }>(sql, ['sel-', 'sel-~'])).map((r) => r.id)).toEqual([
          'sel-a',
          'sel-b',
          'sel-c',
        ]);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect((await db.select<{ id: string }>(sql, ['sel-', 'sel-~'])).map((r) => r.id)).toEqual([
      'sel-a',
      'sel-b',
    ]);
  });

  it('afterCommit hooks run after commit and never after a rollback', async () => {
    const calls: string[] = [];
    await db.transaction(async () => {
      db.afterCommit(() => calls.push('committed'));
      expect(calls).toEqual([]);
    });
    await db
      .transaction(async () => {
        db.afterCommit(() => calls.push('rolled-back'));
        throw new Error('no');
      })
      .catch(() => undefined);
    db.afterCommit(() => calls.push('outside'));
    expect(calls).toEqual(['committed', 'outside']);
  });

  it('group commit: concurrent units share a commit; a failing unit rolls back alone and only its caller sees the error', async () => {
    const reader = await openDataSource(store.config, ENTITIES); // another connection: sees committed rows only
    try {
      const visibleAtAnswer: boolean[] = [];
      const hooks: string[] = [];
      const units = Array.from({ length: 10 }, (_, i) =>
        db
          .batch(async (m) => {
            await m.getRepository(EventEntity).insert({ ...event(i), id: `gc-${i}` });
            db.afterCommit(() => hooks.push(`gc-${i}`));
            if (i === 4) throw new Error('unit 4 fails');
            if (i === 7) await m.getRepository(EventEntity).insert({ ...event(i), id: 'gc-0' }); // UNIQUE
            return i;
          })
          .then(async (v) => {
            visibleAtAnswer.push((await reader.getRepository(EventEntity).countBy({ id: `gc-${v}` })) === 1);
            return v;
          }),
      );
      const settled = await Promise.allSettled(units);
      expect(settled.map((r) => r.status)).toEqual([
        ...Array(4).fill('fulfilled'),
        'rejected',
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      expect((settled[4] as PromiseRejectedResult).reason).toEqual(new Error('unit 4 fails'));
      expect(mapDriverError((settled[7] as PromiseRejectedResult).reason)).toBeInstanceOf(ConflictError);
      expect(visibleAtAnswer).toEqual(Array(8).fill(true)); // answered only once committed
      const ids = (await db.run((m) => m.find(EventEntity, { where: { eventType: 'test_write' } })))
        .map((e) => e.id)
        .filter((id) => id.startsWith('gc-'))
        .sort();
      expect(ids).toEqual(['gc-0', 'gc-1', 'gc-2', 'gc-3', 'gc-5', 'gc-6', 'gc-8', 'gc-9']);
      expect(hooks.sort()).toEqual(ids); // a rolled-back unit's hooks never run
    } finally {
      await reader.destroy();
    }
  });

  if (ENGINE === 'sqlite') {
    it('group commit: when the commit itself fails, no unit of it is acknowledged', async () => {
      // A deferred foreign key is checked at COMMIT: the whole group's commit fails.
      const units = [
        db.batch((m) => m.getRepository(EventEntity).insert({ ...event(1), id: 'gc-fail-a' })),
        db.batch(async (m) => {
          await m.query('PRAGMA defer_foreign_keys = ON');
          await m.getRepository(CameraEntity).insert(camera('gc-orphan', 'no_such_site'));
        }),
        db.batch((m) => m.getRepository(EventEntity).insert({ ...event(2), id: 'gc-fail-b' })),
      ];
      const settled = await Promise.allSettled(units);
      expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      const left = await db.run((m) =>
        m.find(EventEntity, { where: [{ id: 'gc-fail-a' }, { id: 'gc-fail-b' }] }),
      );
      expect(left).toEqual([]);
      expect(await db.run((m) => m.getRepository(CameraEntity).countBy({ id: 'gc-orphan' }))).toBe(0);
      // The store keeps working afterwards.
      await expect(db.batch(async () => 'ok')).resolves.toBe('ok');
    });
  }

  it('isolated(): inside a unit, a failing part rolls back its writes and drops its hooks; the unit commits the rest', async () => {
    const hooks: string[] = [];
    const kept = await db.batch(async (m) => {
      await m.getRepository(EventEntity).insert({ ...event(1), id: 'iso-outer' });
      await expect(
        db.isolated(async (mm) => {
          await mm.getRepository(EventEntity).insert({ ...event(2), id: 'iso-failed' });
          db.afterCommit(() => hooks.push('iso-failed'));
          throw new Error('part fails');
        }),
      ).rejects.toThrow('part fails');
      await db.isolated(async (mm) => {
        await mm.getRepository(EventEntity).insert({ ...event(3), id: 'iso-ok' });
        db.afterCommit(() => hooks.push('iso-ok'));
        // Nested: a failure inside an isolated part rolls back only the inner one.
        await db
          .isolated(async (m3) => {
            await m3.getRepository(EventEntity).insert({ ...event(4), id: 'iso-inner-failed' });
            throw new Error('inner fails');
          })
          .catch(() => undefined);
      });
      expect(hooks).toEqual([]); // nothing runs before the commit
      return 'unit';
    });
    expect(kept).toBe('unit');
    const ids = (await db.run((m) => m.find(EventEntity, { where: { eventType: 'test_write' } })))
      .map((e) => e.id)
      .filter((id) => id.startsWith('iso-'))
      .sort();
    expect(ids).toEqual(['iso-ok', 'iso-outer']);
    expect(hooks).toEqual(['iso-ok']);
  });

  it('maps UNIQUE to 409 and a missing FK target to 400', async () => {
    await db.run((m) => m.getRepository(CameraEntity).insert(camera('dup')));
    const dup = await db
      .run((m) => m.getRepository(CameraEntity).insert(camera('dup')))
      .catch((e: unknown) => e);
    expect(mapDriverError(dup)).toBeInstanceOf(ConflictError);
    const fk = await db
      .run((m) => m.getRepository(CameraEntity).insert(camera('orphan', 'no_such_site')))
      .catch((e: unknown) => e);
    expect(mapDriverError(fk)).toBeInstanceOf(BadRequestError);
  });

  it('ping answers true on a live store and false once closed', async () => {
    expect(await db.ping()).toBe(true);
    const other = await openDataSource(store.config, ENTITIES);
    const otherDb = new DatabaseService(other);
    await other.destroy();
    expect(await otherDb.ping()).toBe(false);
  });
});

describe(`migration 1765000000000: webhook camera scope (${ENGINE})`, () => {
  it("gives a sidecar's existing webhook its key's camera scope; other webhooks stay unscoped", async () => {
    const store = await createTestStore();
    const ds = await openDataSource(store.config, ENTITIES);
    try {
      const now = '2026-01-01T00:00:00.000Z';
      const key = (id: string, scope: string[] | null): ApiKeyEntity => ({
        id,
        name: id,
        keyHash: `hash_${id}`,
        keyPrefix: 'vok_x',
        role: 'viewer',
        capabilities: ['camera:read'],
        scopeKind: scope ? 'cameras' : 'all',
        scopeCameras: scope,
        active: true,
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
        createdAt: now,
      });
      const hook = (id: string, moduleId: string | null): WebhookEntity => ({
        id,
        name: id,
        url: 'http://127.0.0.1:9/heldar/events',
        eventTypes: ['*'],
        minSeverity: 'info',
        secret: 'enc:v1:x',
        enabled: true,
        cameraScope: null,
        moduleId,
        cursorSeq: 0,
        consecutiveFailures: 0,
        failing: false,
        lastSuccessAt: null,
        lastFailureAt: null,
        createdAt: now,
        updatedAt: now,
      });
      const car = (id: string, keyId: string, webhookId: string): SidecarEntity => ({
        id,
        name: id,
        version: '1',
        description: null,
        baseUrl: 'http://127.0.0.1:9',
        role: 'viewer',
        apiKeyId: keyId,
        webhookId,
        nav: [],
        health: 'unknown',
        healthCheckedAt: null,
        healthError: null,
        createdAt: now,
        updatedAt: now,
      });
      await ds.getRepository(ApiKeyEntity).insert([key('key_s', ['cam_a', 'cam_b']), key('key_u', null)]);
      await ds
        .getRepository(WebhookEntity)
        .insert([hook('wh_s', 's'), hook('wh_u', 'u'), hook('wh_plain', null)]);
      await ds.getRepository(SidecarEntity).insert([car('s', 'key_s', 'wh_s'), car('u', 'key_u', 'wh_u')]);
      // As before the migration (its column gone, the rows kept), then the migration itself.
      const q = ds.createQueryRunner();
      try {
        await new WebhookCameraScope1765000000000().down(q);
        await new WebhookCameraScope1765000000000().up(q);
      } finally {
        await q.release();
      }
      const rows = await ds.getRepository(WebhookEntity).find({ order: { id: 'ASC' } });
      expect(rows.map((w) => [w.id, w.cameraScope])).toEqual([
        ['wh_plain', null],
        ['wh_s', ['cam_a', 'cam_b']],
        ['wh_u', null],
      ]);
      expect(await schemaDrift(ds)).toEqual([]);
    } finally {
      await ds.destroy();
      await store.cleanup();
    }
  });

  it('migration 1765800000000: module records gain reason and since; sidecars registered before get their record from their health', async () => {
    const store = await createTestStore();
    const ds = await openDataSource(store.config, ENTITIES);
    try {
      const now = '2026-05-01T00:00:00.000Z';
      const car = (id: string, health: SidecarEntity['health']): SidecarEntity => ({
        id,
        name: `Car ${id}`,
        version: '1.2.0',
        description: null,
        baseUrl: 'http://127.0.0.1:9',
        role: 'viewer',
        apiKeyId: `key_${id}`,
        webhookId: `wh_${id}`,
        nav: [],
        health,
        healthCheckedAt: health === 'unknown' ? null : '2026-05-02T00:00:00.000Z',
        healthError: health === 'unreachable' ? 'HTTP 503' : null,
        createdAt: now,
        updatedAt: now,
      });
      const q = ds.createQueryRunner();
      try {
        // As before the migration (its columns gone), with a built-in record and three sidecars.
        await new ModuleLifecycle1765800000000().down(q);
        await q.query(
          `INSERT INTO module_records (id, name, version, kind, state, description, updated_at)
           VALUES ('events', 'Events', '0.5.0', 'builtin', 'stopped', NULL, '${now}')`,
        );
        await ds
          .getRepository(SidecarEntity)
          .insert([car('up', 'healthy'), car('down', 'unreachable'), car('new', 'unknown')]);
        await new ModuleLifecycle1765800000000().up(q);
      } finally {
        await q.release();
      }
      const rows: Array<Record<string, unknown>> = await ds.query(
        'SELECT id, kind, state, reason, since FROM module_records ORDER BY id',
      );
      expect(rows).toEqual([
        {
          id: 'down',
          kind: 'sidecar',
          state: 'failed',
          reason: 'HTTP 503',
          since: '2026-05-02T00:00:00.000Z',
        },
        { id: 'events', kind: 'builtin', state: 'stopped', reason: null, since: now },
        { id: 'new', kind: 'sidecar', state: 'loaded', reason: null, since: now },
        { id: 'up', kind: 'sidecar', state: 'running', reason: null, since: '2026-05-02T00:00:00.000Z' },
      ]);
      expect(await schemaDrift(ds)).toEqual([]);
    } finally {
      await ds.destroy();
      await store.cleanup();
    }
  });
});
