import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { freePort } from '../fixtures/free-port';
import { createTestStore, ENGINE } from '../support/test-db';
import { dataSourceOptions } from '../../src/database/data-source';
import { ENTITIES } from '../../src/app.entities';
import { ModuleRecordEntity } from '../../src/settings/entities/module-record.entity';

const MAIN = resolve(__dirname, '../../dist/heldar.js');
/** The kernel itself; MAIN is the launcher that runs it through V8's code cache. */
const BUNDLE = resolve(__dirname, '../../dist/heldar.bundle.js');

function run(env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, output: () => out };
}

describe(`the built server (${ENGINE})`, () => {
  beforeAll(() => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run \`npm run build\` first (make test does)`);
  });

  it('refuses to boot on invalid configuration, listing every bad variable', async () => {
    const store = await createTestStore();
    try {
      const p = run(
        {
          HELDAR_DATA_DIR: store.dataDir,
          HELDAR_API_PORT: 'http',
          HELDAR_AUTH_ENABLED: 'perhaps',
          HELDAR_SECRET_KEY: 'c2hvcnQ=',
        },
        store.dataDir,
      );
      expect(await p.exited).toBe(2);
      expect(p.output()).toContain('HELDAR_API_PORT="http"');
      expect(p.output()).toContain('HELDAR_AUTH_ENABLED="perhaps"');
      expect(p.output()).toContain('HELDAR_SECRET_KEY=(hidden)');
      expect(p.output()).not.toContain('c2hvcnQ=');
    } finally {
      await store.cleanup();
    }
  });

  it('ships as one ASCII file that boots on a database the unbundled code migrated, with validation, argon2 and Swagger UI working bundled', async () => {
    // One byte per character: V8 would hold a script with any character above U+00FF as UTF-16.
    expect(readFileSync(BUNDLE).some((b) => b > 0x7f)).toBe(false);
    const store = await createTestStore();
    // Migrated by the TypeScript sources: the bundle must find every migration already applied
    // (same class names), not run them again.
    const ds = new DataSource(dataSourceOptions(store.config, ENTITIES));
    await ds.initialize();
    await ds.runMigrations();
    const applied = await ds.query<{ name: string }[]>('SELECT name FROM migrations ORDER BY id');
    await ds.destroy();
    const port = await freePort();
    const p = run(
      {
        HELDAR_DATA_DIR: store.dataDir,
        HELDAR_DATABASE_URL: store.databaseUrl,
        HELDAR_API_PORT: String(port),
        HELDAR_API_HOST: '127.0.0.1',
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: 'admin',
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: 'boot-bundle-password',
        HELDAR_RECORDER_ENABLED: 'false',
        HELDAR_AI_ENABLED: 'false',
        HELDAR_MIN_FREE_DISK_GB: '0',
      },
      store.dataDir,
    );
    const base = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ready = await fetch(`${base}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (ready === 200) break;
        if (Date.now() > deadline) throw new Error(`not ready: ${p.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const login = (body: unknown) =>
        fetch(`${base}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      // class-validator's decorators (metadata emitted by tsc, kept through the bundle).
      const invalid = await login({ username: 42, password: 'x' });
      expect(invalid.status).toBe(400);
      expect(await invalid.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
      // argon2 (a native addon, left in node_modules) hashes the bootstrap admin and verifies.
      expect((await login({ username: 'admin', password: 'wrong-password' })).status).toBe(401);
      const ok = await login({ username: 'admin', password: 'boot-bundle-password' });
      expect(ok.status).toBe(200);
      const { token } = (await ok.json()) as { token: string };
      const auth = { authorization: `Bearer ${token}` };
      const cameras = await fetch(`${base}/api/v1/cameras`, { headers: auth });
      expect(cameras.status).toBe(200);
      // The OpenAPI document is built from the bundled DTO metadata; Swagger UI's assets come
      // from swagger-ui-dist in node_modules.
      const spec = await fetch(`${base}/openapi.json`, { headers: auth });
      expect(spec.status).toBe(200);
      expect(Object.keys(((await spec.json()) as { paths: object }).paths)).toEqual(
        expect.arrayContaining(['/api/v1/cameras', '/api/v1/auth/login', '/readyz']),
      );
      const css = await fetch(`${base}/docs/swagger-ui.css`, { headers: auth });
      expect(css.status).toBe(200);
      expect(await css.text()).toContain('.swagger-ui');

      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      const after = new DataSource(dataSourceOptions(store.config, ENTITIES));
      await after.initialize();
      const rows = await after.query<{ name: string }[]>('SELECT name FROM migrations ORDER BY id');
      await after.destroy();
      expect(applied.length).toBeGreaterThan(5);
      expect(rows).toEqual(applied);
    } finally {
      p.child.kill('SIGKILL');
      await store.cleanup();
    }
  });

  it('writes a V8 code cache after its first start, and later starts compile from it', async () => {
    const store = await createTestStore();
    // Its own cache folder: kernels of other test files (other flags) write next to the bundle.
    const cacheDir = mkdtempSync(join(tmpdir(), 'heldar-code-cache-'));
    const boot = async () => {
      const port = await freePort();
      const p = run(
        {
          HELDAR_DATA_DIR: store.dataDir,
          HELDAR_DATABASE_URL: store.databaseUrl,
          HELDAR_API_PORT: String(port),
          HELDAR_API_HOST: '127.0.0.1',
          HELDAR_LOG: 'debug',
          HELDAR_RECORDER_ENABLED: 'false',
          HELDAR_AI_ENABLED: 'false',
          HELDAR_MIN_FREE_DISK_GB: '0',
          HELDAR_CODE_CACHE_DIR: cacheDir,
        },
        store.dataDir,
      );
      const deadline = Date.now() + 30_000;
      while (!/code cache: \w+/.test(p.output()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      return p;
    };
    const caches = () => readdirSync(cacheDir).filter((f) => /^heldar-[0-9a-f]+\.v8cache$/.test(f));
    try {
      const first = await boot();
      try {
        expect(cacheState(first.output())).toBe('absent');
        const deadline = Date.now() + 15_000; // written a second after the server listens
        while (caches().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(caches()).toHaveLength(1);
        expect(readdirSync(store.dataDir).some((f) => f.endsWith('.v8cache'))).toBe(false);
      } finally {
        first.child.kill('SIGTERM');
        expect(await first.exited).toBe(0);
      }
      const second = await boot();
      try {
        expect(cacheState(second.output())).toBe('accepted');
        expect((await fetch(`${second.output().match(/http:\/\/127\.0\.0\.1:\d+/)![0]}/readyz`)).status).toBe(
          200,
        );
      } finally {
        second.child.kill('SIGTERM');
        expect(await second.exited).toBe(0);
      }
    } finally {
      await store.cleanup();
      rmSync(cacheDir, { recursive: true, force: true });
    }
    function cacheState(out: string): string | undefined {
      return /code cache: (\w+)/.exec(out)?.[1];
    }
  });

  it('boots, prints the Swagger UI URL, serves, and shuts down cleanly on SIGTERM', async () => {
    const store = await createTestStore();
    const port = await freePort();
    const p = run(
      {
        HELDAR_DATA_DIR: store.dataDir,
        HELDAR_DATABASE_URL: store.databaseUrl,
        HELDAR_API_PORT: String(port),
        HELDAR_API_HOST: '127.0.0.1',
      },
      store.dataDir,
    );
    try {
      const deadline = Date.now() + 30_000;
      while (!p.output().includes('/docs') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(p.output()).toContain(`Swagger UI: http://127.0.0.1:${port}/docs`);
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(res.status).toBe(200);
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(existsSync(join(store.dataDir, 'secret.key'))).toBe(true);

      const ds = new DataSource(dataSourceOptions(store.config, ENTITIES));
      await ds.initialize();
      const states = await ds.getRepository(ModuleRecordEntity).find();
      await ds.destroy();
      expect(states.length).toBeGreaterThan(3);
      expect(states.every((m) => m.state === 'stopped')).toBe(true);
    } finally {
      p.child.kill('SIGKILL');
      await store.cleanup();
    }
  });
});
