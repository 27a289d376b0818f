import { Test } from '@nestjs/testing';
import { firstValueFrom, take, toArray, timeout } from 'rxjs';
import { DataSource } from 'typeorm';
import { AuditModule } from '../../src/audit/audit.module';
import { AuditService } from '../../src/audit/audit.service';
import { SYSTEM_PRINCIPAL } from '../../src/auth/principal';
import { CommonModule } from '../../src/common/common.module';
import { ConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { ENTITIES } from '../../src/app.entities';
import { DatabaseService } from '../../src/database/database.service';
import { EventBus } from '../../src/events/event-bus';
import { EventsModule } from '../../src/events/events.module';
import { EventsService } from '../../src/events/events.service';
import { SettingsModule } from '../../src/settings/settings.module';
import { SettingsService } from '../../src/settings/settings.service';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';
import type { TestingModule } from '@nestjs/testing';

describe(`events, settings and audit services (${ENGINE})`, () => {
  let store: TestStore;
  let mod: TestingModule;
  let events: EventsService;
  let bus: EventBus;
  let db: DatabaseService;
  let settings: SettingsService;
  let audit: AuditService;

  beforeAll(async () => {
    store = await createTestStore();
    mod = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(store.config),
        CommonModule,
        DatabaseModule.forRoot(ENTITIES),
        AuditModule,
        EventsModule,
        SettingsModule,
      ],
    }).compile();
    await mod.init();
    events = mod.get(EventsService);
    bus = mod.get(EventBus);
    db = mod.get(DatabaseService);
    settings = mod.get(SettingsService);
    audit = mod.get(AuditService);
  });

  afterAll(async () => {
    await mod.close();
    await store.cleanup();
  });

  it('emit persists with a monotonic seq and publishes after commit', async () => {
    const received = firstValueFrom(bus.events$.pipe(take(3), toArray(), timeout(2000)));
    const a = await events.emitExternal({
      type: 'camera_offline',
      severity: 'warning',
      cameraId: 'c1',
      payload: { n: 1 },
    });
    const b = await events.emitExternal({ type: 'camera_offline', cameraId: 'c2' });
    const c = await events.emitExternal({ type: 'worker_thing', cameraId: 'c1' });
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(c.seq).toBeGreaterThan(b.seq);
    expect((await received).map((e) => e.seq)).toEqual([a.seq, b.seq, c.seq]);
    // What the bus carries is the real object, on both engines (not a JSON string from the driver).
    expect(a.payload).toEqual({ n: 1 });
    expect(b.payload).toEqual({});
  });

  it('an event emitted in a rolled-back transaction is neither stored nor published', async () => {
    const seen: string[] = [];
    const sub = bus.events$.subscribe((e) => seen.push(e.eventType));
    await db
      .transaction(async () => {
        await events.emitExternal({ type: 'ghost_event' });
        expect(seen).toEqual([]); // not before commit
        throw new Error('abort');
      })
      .catch(() => undefined);
    await db.transaction(async () => {
      await events.emitExternal({ type: 'real_event' });
      expect(seen).toEqual([]);
    });
    sub.unsubscribe();
    expect(seen).toEqual(['real_event']);
    expect(await events.list({ eventType: 'ghost_event', limit: 10 })).toEqual([]);
  });

  it('queries: camera, exact and prefix type, minimum severity, since_seq ascending', async () => {
    const newest = await events.list({ limit: 100 });
    expect(newest.map((e) => e.seq)).toEqual([...newest.map((e) => e.seq)].sort((x, y) => y - x));
    expect((await events.list({ cameraId: 'c1', limit: 10 })).map((e) => e.eventType).sort()).toEqual([
      'camera_offline',
      'worker_thing',
    ]);
    expect((await events.list({ eventType: 'camera_*', limit: 10 })).length).toBe(2);
    expect((await events.list({ minSeverity: 'warning', limit: 10 })).map((e) => e.cameraId)).toEqual(['c1']);
    const first = newest[newest.length - 1];
    const after = await events.list({ sinceSeq: first.seq, limit: 10 });
    expect(after[0].seq).toBeGreaterThan(first.seq);
    expect(after.map((e) => e.seq)).toEqual([...after.map((e) => e.seq)].sort((x, y) => x - y));
    const types = await events.listTypes();
    expect(types).toContainEqual({
      event_type: 'worker_thing',
      description: 'Observed at runtime',
      source: 'observed',
    });
  });

  it('settings: JSON round-trip; values are sealed at rest', async () => {
    await settings.set('recording_max_bytes', 1234);
    await settings.set('smtp', { user: 'a', password: 'hunter2' });
    expect(await settings.get('recording_max_bytes')).toBe(1234);
    expect(await settings.get('smtp')).toEqual({ user: 'a', password: 'hunter2' });
    const raw: Array<{ value: string }> = await mod
      .get(DataSource)
      .query("SELECT value FROM settings WHERE key = 'smtp'");
    expect(raw[0].value).toMatch(/^enc:v2:/);
    expect(raw[0].value).not.toContain('hunter2');
    expect(await settings.delete('smtp')).toBe(true);
    expect(await settings.tryGet('smtp')).toBeUndefined();
    await expect(settings.get('smtp')).rejects.toMatchObject({ status: 404, code: 'CONFIG_NOT_FOUND' });
  });

  it('module records: built-in modules are running; unknown module state change is a 404 error', async () => {
    const mods = await settings.listModules();
    expect(mods.find((m) => m.id === 'events')).toMatchObject({ kind: 'builtin', state: 'running' });
    await settings.setModuleState('events', 'failed');
    expect((await settings.lookupModule('events'))?.state).toBe('failed');
    await expect(settings.setModuleState('nope', 'running')).rejects.toMatchObject({ status: 404 });
  });

  it('audit: rows carry actor, action, target and camera subject', async () => {
    await audit.record(SYSTEM_PRINCIPAL, 'update_camera', 'camera', 'c9', { fields: ['name'] });
    const [row] = (await audit.list({ limit: 1 })).entries;
    expect(row).toMatchObject({
      actorKind: 'system',
      actorId: 'system',
      action: 'update_camera',
      targetType: 'camera',
      targetId: 'c9',
      subjectCameraId: 'c9',
      detail: { fields: ['name'] },
    });
    expect(row.id).toMatch(/^aud_[0-9a-f]{32}$/);
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('audit: rows chain by hash; the database refuses UPDATE; verify finds an edited row', async () => {
    for (let i = 0; i < 5; i++) await audit.record(SYSTEM_PRINCIPAL, 'chain_test', 'thing', `t${i}`, { i });
    expect(await audit.verify()).toEqual({
      ok: true,
      checked: expect.any(Number),
      first_broken_id: null,
      problem: null,
      head: { seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    const ds = mod.get(DataSource);
    await expect(ds.query("UPDATE audit_log SET action = 'forged' WHERE target_id = 't2'")).rejects.toThrow(
      /append-only/,
    );
    // Someone with the database file drops the trigger and edits a row behind the API's back.
    const sqlite = ds.options.type === 'better-sqlite3';
    await ds.query(
      sqlite ? 'DROP TRIGGER audit_log_append_only' : 'DROP TRIGGER audit_log_append_only ON audit_log',
    );
    await ds.query(`UPDATE audit_log SET detail = '{"i":99}' WHERE target_id = 't2'`);
    const edited = (await audit.list({ targetId: 't2', limit: 1 })).entries[0];
    const res = await audit.verify();
    expect(res).toMatchObject({ ok: false, first_broken_id: edited.id });
  });
});
