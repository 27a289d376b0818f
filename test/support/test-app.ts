import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { createApp } from '../../src/app.factory';
import { createTestStore, type TestStore } from './test-db';

type Extra = NonNullable<Parameters<typeof createApp>[1]>['extraModules'];

export interface TestApp {
  app: NestExpressApplication;
  store: TestStore;
  baseUrl: string;
  http: () => ReturnType<typeof request>;
  close(): Promise<void>;
}

/** The real server over HTTP on a free loopback port, on a fresh store. */
export async function startTestApp(
  opts: { env?: Record<string, string>; extraModules?: Extra } = {},
): Promise<TestApp> {
  const store = await createTestStore(opts.env);
  const app = await createApp(store.config, { extraModules: opts.extraModules });
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
  };
}
