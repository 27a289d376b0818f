import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadConfig, type HeldarConfig } from '../../src/config/heldar-config';

/** Which engine the medium and e2e tiers run on: `DATABASE=postgres` (with HELDAR_TEST_PG_URL) or SQLite. */
export const ENGINE: 'sqlite' | 'postgres' = process.env.DATABASE === 'postgres' ? 'postgres' : 'sqlite';

export interface TestStore {
  config: HeldarConfig;
  dataDir: string;
  databaseUrl: string;
  cleanup(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.HELDAR_TEST_PG_URL;
  if (!url)
    throw new Error('DATABASE=postgres needs HELDAR_TEST_PG_URL (make test starts a throwaway cluster)');
  return url;
}

/**
 * A fresh store for one test file: a temp data dir with its own SQLite file, or a fresh
 * PostgreSQL database on the test cluster. Extra HELDAR_* variables may be given.
 */
export async function createTestStore(env: Record<string, string> = {}): Promise<TestStore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'heldar-test-'));
  let databaseUrl = `sqlite://${join(dataDir, 'heldar.db')}`;
  let dropDb: (() => Promise<void>) | undefined;
  if (ENGINE === 'postgres') {
    const name = `heldar_t_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(adminUrl());
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    dropDb = async () => {
      const c = new Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  const config = testConfig(dataDir, databaseUrl, env);
  return {
    config,
    dataDir,
    databaseUrl,
    async cleanup() {
      await dropDb?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Another kernel's store on the SAME database as `store` (a cluster node: PostgreSQL): its own
 * data dir holding a copy of the first one's secret key; its cleanup leaves the database (the
 * first store drops it). Extra HELDAR_* variables may be given (e.g. HELDAR_NODE_ID).
 */
export function sharedTestStore(store: TestStore, env: Record<string, string> = {}): TestStore {
  const dataDir = mkdtempSync(join(tmpdir(), 'heldar-test-'));
  if (existsSync(store.config.secretKeyFile))
    copyFileSync(store.config.secretKeyFile, join(dataDir, 'secret.key'));
  const config = testConfig(dataDir, store.databaseUrl, env);
  return {
    config,
    dataDir,
    databaseUrl: store.databaseUrl,
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

/** A test kernel's configuration on `dataDir` and `databaseUrl`, plus any HELDAR_* of the test. */
function testConfig(dataDir: string, databaseUrl: string, env: Record<string, string | undefined>) {
  return loadConfig({
    HELDAR_DATA_DIR: dataDir,
    HELDAR_DATABASE_URL: databaseUrl,
    HELDAR_LOG: 'silent',
    HELDAR_API_HOST: '127.0.0.1',
    // Recorders only where a test records (they would pull every camera a test registers).
    HELDAR_RECORDER_ENABLED: 'false',
    // No cap or floor unless a test sets one: this machine's free space must not prune test footage.
    HELDAR_MAX_RECORDINGS_GB: '0',
    HELDAR_MIN_FREE_DISK_GB: '0',
    ...env,
  });
}
