import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger as Pino } from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app.factory';
import BetterSqlite3 from 'better-sqlite3';
import { Client } from 'pg';
import { Clock } from '../../src/common/clock';
import { createTestStore, ENGINE, type TestStore } from './test-db';

type Extra = NonNullable<Parameters<typeof createApp>[1]>['extraModules'];

export interface TestApp {
  app: NestExpressApplication;
  store: TestStore;
  baseUrl: string;
  http: () => ReturnType<typeof request>;
  close(): Promise<void>;
  /** Stop the server but keep its store (to start it again). */
  stopServer(): Promise<void>;
}

/** Poll `fn` until it returns a truthy value (or throw after `timeoutMs`). */
export async function waitFor<T>(
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** The real server over HTTP on a free loopback port, on a fresh store (`logger`: capture its log). */
export async function startTestApp(
  opts: {
    env?: Record<string, string>;
    extraModules?: Extra;
    store?: TestStore;
    logger?: Pino;
    /** The built console to serve (default: the repository's dist/web). */
    webDir?: string;
  } = {},
): Promise<TestApp> {
  const store = opts.store ?? (await createTestStore(opts.env));
  const app = await createApp(store.config, {
    extraModules: opts.extraModules,
    logger: opts.logger,
    webDir: opts.webDir,
  });
  await app.listen(0, '127.0.0.1');
  const addr = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${addr.port}`;
  return {
    app,
    store,
    baseUrl,
    http: () => request(baseUrl),
    async close() {
      await app.close();
      await store.cleanup();
    },
    async stopServer() {
      await app.close();
    },
  };
}

/** Rows straight from the store, bypassing the API (to see what is really at rest). */
export async function rawQuery(t: TestApp, sql: string): Promise<Array<Record<string, unknown>>> {
  if (ENGINE === 'postgres') {
    const c = new Client({ connectionString: t.store.databaseUrl });
    await c.connect();
    try {
      return (await c.query(sql)).rows as Array<Record<string, unknown>>;
    } finally {
      await c.end();
    }
  }
  const db = new BetterSqlite3(t.store.config.sqlitePath, { readonly: true });
  try {
    return db.prepare(sql).all() as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

/** Run `fn` with the kernel's clock `ms` ahead (expiry, idle and stale checks without waiting). */
export async function withClockAhead<T>(t: TestApp, ms: number, fn: () => Promise<T>): Promise<T> {
  const clock = t.app.get(Clock);
  const realMs = clock.nowMs.bind(clock);
  const realIso = clock.nowIso.bind(clock);
  clock.nowMs = () => realMs() + ms;
  clock.nowIso = () => new Date(realMs() + ms).toISOString();
  try {
    return await fn();
  } finally {
    clock.nowMs = realMs;
    clock.nowIso = realIso;
  }
}
