import { createCipheriv, randomBytes } from 'node:crypto';
import { Test, type TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { AuditModule } from '../../src/audit/audit.module';
import { CommonModule } from '../../src/common/common.module';
import { SecretBox, sealedIn } from '../../src/common/secret-box';
import { ConfigModule } from '../../src/config/config.module';
import type { HeldarConfig } from '../../src/config/heldar-config';
import { DatabaseModule } from '../../src/database/database.module';
import { ENTITIES } from '../../src/app.entities';
import { EventsModule } from '../../src/events/events.module';
import { EventsService } from '../../src/events/events.service';
import { SettingsModule } from '../../src/settings/settings.module';
import { type ModuleMeta, SettingsService } from '../../src/settings/settings.service';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);

/** The store's config with another secret key (a copy that keeps the config's getters). */
function withKey(config: HeldarConfig, key: Buffer): HeldarConfig {
  return Object.assign(Object.create(Object.getPrototypeOf(config) as object) as HeldarConfig, config, {
    secretKey: key.toString('base64'),
  });
}

function meta(id: string): ModuleMeta {
  return { id, name: `Module ${id}`, version: '0.1.0', kind: 'sidecar', description: 'test module' };
}

/** The seed's registry tests (oxide_k registry.rs) on a real migrated store, plus sealing at rest. */
describe(`settings registry (${ENGINE})`, () => {
  let store: TestStore;
  let mod: TestingModule;
  let settings: SettingsService;

  async function open(key: Buffer): Promise<void> {
    mod = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(withKey(store.config, key)),
        CommonModule,
        DatabaseModule.forRoot(ENTITIES),
        AuditModule,
        EventsModule,
        SettingsModule,
      ],
    }).compile();
    await mod.init();
    settings = mod.get(SettingsService);
  }

  const raw = (sql: string): Promise<Array<Record<string, unknown>>> => mod.get(DataSource).query(sql);
  const stateEvents = async () =>
    (await mod.get(EventsService).list({ eventType: 'module_state_changed', limit: 100 })).map(
      (e) => e.payload,
    );

  beforeAll(async () => {
    store = await createTestStore();
    await open(KEY_A);
  });

  afterAll(async () => {
    await mod?.close();
    await store.cleanup();
  });

  it('migrations create empty tables: no setting, only the built-in modules of this kernel', async () => {
    expect(await raw('SELECT key FROM settings')).toEqual([]);
    const mods = await settings.listModules();
    expect(mods.map((m) => m.id)).toEqual(['audit', 'events', 'settings']);
    for (const m of mods) expect(m).toMatchObject({ kind: 'builtin', state: 'running', reason: null });
    expect(await stateEvents()).toEqual([]); // the kernel's own boot is not news
  });

  it('upsert then get; upsert promotes state', async () => {
    await settings.upsertModule(meta('mirror'), 'loaded');
    expect(await settings.lookupModule('mirror')).toMatchObject({
      id: 'mirror',
      kind: 'sidecar',
      state: 'loaded',
      description: 'test module',
    });
    await settings.upsertModule(meta('mirror'), 'running');
    expect((await settings.lookupModule('mirror'))?.state).toBe('running');
    expect(await settings.lookupModule('nope')).toBeNull();
  });

  it('set state changes only the state (and its reason and since); an unchanged state keeps its since', async () => {
    await settings.upsertModule(meta('compress'), 'loaded');
    const before = (await settings.lookupModule('compress'))!;
    await new Promise((r) => setTimeout(r, 5));
    await settings.setModuleState('compress', 'failed', 'disk gone');
    const failed = (await settings.lookupModule('compress'))!;
    expect(failed).toMatchObject({
      name: 'Module compress',
      version: '0.1.0',
      state: 'failed',
      reason: 'disk gone',
    });
    expect(failed.since! > before.since!).toBe(true);
    await settings.setModuleState('compress', 'failed', 'disk gone');
    expect((await settings.lookupModule('compress'))!.since).toBe(failed.since);
    await settings.setModuleState('compress', 'running');
    expect(await settings.lookupModule('compress')).toMatchObject({ state: 'running', reason: null });
  });

  it('a change of state is a module_state_changed event', async () => {
    const changes = await stateEvents();
    expect(changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ module_id: 'mirror', previous_state: 'loaded', state: 'running' }),
        expect.objectContaining({
          module_id: 'compress',
          kind: 'sidecar',
          previous_state: 'loaded',
          state: 'failed',
          reason: 'disk gone',
        }),
        expect.objectContaining({ module_id: 'compress', previous_state: 'failed', state: 'running' }),
      ]),
    );
    expect(changes).toHaveLength(3); // first writes and repeats are not news
  });

  it('unknown module: MODULE_NOT_FOUND', async () => {
    await expect(settings.setModuleState('missing', 'running')).rejects.toMatchObject({
      status: 404,
      code: 'MODULE_NOT_FOUND',
    });
  });

  it('listModules is ordered by id', async () => {
    const ids = (await settings.listModules()).map((m) => m.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['compress', 'mirror']));
  });

  it('config round trip and overwrite', async () => {
    await settings.set('max_threads', 8);
    expect(await settings.get<number>('max_threads')).toBe(8);
    await settings.set('max_threads', 16);
    expect(await settings.get<number>('max_threads')).toBe(16);
  });

  it('missing: get throws CONFIG_NOT_FOUND while tryGet is empty', async () => {
    await expect(settings.get('missing')).rejects.toMatchObject({ status: 404, code: 'CONFIG_NOT_FOUND' });
    expect(await settings.tryGet('missing')).toBeUndefined();
  });

  it('delete reports whether it removed', async () => {
    await settings.set('key', 'value');
    expect(await settings.delete('key')).toBe(true);
    expect(await settings.delete('key')).toBe(false);
  });

  it('complex JSON values of any shape', async () => {
    const endpoint = {
      url: 'https://example.com',
      retries: 3,
      tags: ['a', null, 2.5],
      nested: { ok: false },
    };
    await settings.set('endpoint', endpoint);
    expect(await settings.get('endpoint')).toEqual(endpoint);
    for (const v of [[1, 'two', { three: 3 }], 'text', 0, true, null]) {
      await settings.set('shape', v);
      expect(await settings.get('shape')).toEqual(v);
    }
  });

  it('the raw row holds no plaintext: every value is sealed, bound to its key', async () => {
    await settings.set('smtp', { user: 'a', password: 'hunter2' });
    const rows = await raw('SELECT key, value FROM settings');
    expect(rows.length).toBeGreaterThan(2);
    for (const r of rows) expect(String(r.value)).toMatch(/^enc:v2:/);
    const smtp = String(rows.find((r) => r.key === 'smtp')?.value);
    expect(smtp).not.toContain('hunter2');
    expect(new SecretBox(KEY_A).open(smtp, sealedIn('settings', 'value', 'smtp'))).toBe(
      JSON.stringify({ user: 'a', password: 'hunter2' }),
    );
  });

  it('a row copied to another key fails to open, with a clear error that shows no value', async () => {
    await settings.set('decoy', 'public');
    await raw(
      `UPDATE settings SET value = (SELECT value FROM settings WHERE key = 'smtp') WHERE key = 'decoy'`,
    );
    const err = (await settings.get('decoy').catch((e: unknown) => e)) as Error & {
      status: number;
      code: string;
    };
    expect(err).toMatchObject({ status: 500, code: 'CONFIG_UNREADABLE' });
    expect(err.message).toMatch(/`decoy` cannot be opened/);
    expect(err.message).not.toContain('hunter2');
    await settings.delete('decoy');
  });

  it('reads work across a restart with the same key', async () => {
    await mod.close();
    await open(KEY_A);
    expect(await settings.get('smtp')).toEqual({ user: 'a', password: 'hunter2' });
    expect(await settings.get('max_threads')).toBe(16);
    expect(settings.startProblem()).toBeNull();
  });

  it('rows stored plain or sealed without the binding (enc:v1) are sealed at boot', async () => {
    const no = ENGINE === 'postgres' ? 'false' : '0';
    const now = new Date().toISOString();
    await raw(
      `INSERT INTO settings (key, value, secret, updated_at) VALUES ('plain_cap', '1234', ${no}, '${now}')`,
    );
    const v1 = sealV1(KEY_A, JSON.stringify({ token: 'old-secret' }));
    await raw(
      `INSERT INTO settings (key, value, secret, updated_at) VALUES ('old_token', '${v1}', ${no}, '${now}')`,
    );
    await mod.close();
    await open(KEY_A);
    const rows = await raw(`SELECT key, value FROM settings WHERE key IN ('plain_cap', 'old_token')`);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(String(r.value)).toMatch(/^enc:v2:/);
    expect(await settings.get('plain_cap')).toBe(1234);
    expect(await settings.get('old_token')).toEqual({ token: 'old-secret' });
  });

  it('the wrong key fails loudly: reads throw CONFIG_UNREADABLE and the settings module is failed', async () => {
    await mod.close();
    await open(KEY_B);
    await expect(settings.get('smtp')).rejects.toMatchObject({ status: 500, code: 'CONFIG_UNREADABLE' });
    expect(settings.startProblem()).toMatch(/cannot be opened with this kernel's key .*smtp/);
    const rec = await settings.lookupModule('settings');
    expect(rec).toMatchObject({ state: 'failed', reason: expect.stringMatching(/HELDAR_SECRET_KEY/) });
    expect(rec?.reason).not.toContain('hunter2');
    expect(await stateEvents()).toEqual(
      expect.arrayContaining([expect.objectContaining({ module_id: 'settings', state: 'failed' })]),
    );
    // Nothing was re-sealed with the wrong key: the right key still opens every value.
    await mod.close();
    await open(KEY_A);
    expect(await settings.get('smtp')).toEqual({ user: 'a', password: 'hunter2' });
    expect(await settings.lookupModule('settings')).toMatchObject({ state: 'running', reason: null });
  });
});

/** A value as the kernel sealed it before values were bound to their place (`enc:v1:`, no AAD). */
function sealV1(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return 'enc:v1:' + Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64');
}
