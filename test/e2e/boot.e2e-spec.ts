import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { freePort } from '../fixtures/free-port';
import { createTestStore, ENGINE } from '../support/test-db';
import { dataSourceOptions } from '../../src/database/data-source';
import { ModuleRecordEntity } from '../../src/settings/entities/module-record.entity';

const MAIN = resolve(__dirname, '../../dist/src/main.js');

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

      const ds = new DataSource(dataSourceOptions(store.config));
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
