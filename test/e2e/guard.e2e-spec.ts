import { Controller, Get, Module, RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { CAPABILITY_KEY, PUBLIC_KEY, RequireCapability } from '../../src/auth/decorators';
import { startTestApp, type TestApp } from '../support/test-app';

@Controller('api/v1/test-undeclared')
class UndeclaredController {
  @Get()
  leak(): { secret: string } {
    return { secret: 'should never be served' };
  }

  @Get('declared')
  @RequireCapability('camera:read')
  declared(): { ok: boolean } {
    return { ok: true };
  }
}

@Module({ controllers: [UndeclaredController] })
class UndeclaredModule {}

interface RouteInfo {
  method: string;
  path: string;
  capabilities: string[] | undefined;
  isPublic: boolean;
}

/** Every route the application registered, with its declaration. */
function census(t: TestApp): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const mod of t.app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as (new (...a: unknown[]) => object) | null;
      if (!ctrl) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, ctrl) ?? '');
      for (const name of Object.getOwnPropertyNames(ctrl.prototype)) {
        const handler = (ctrl.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler));
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
        const get = <T>(key: string) =>
          (Reflect.getMetadata(key, handler) as T | undefined) ??
          (Reflect.getMetadata(key, ctrl) as T | undefined);
        routes.push({
          method,
          path:
            '/' +
            [base, sub]
              .filter((p) => p && p !== '/')
              .join('/')
              .replace(/^\/+/, ''),
          capabilities: get<string[]>(CAPABILITY_KEY),
          isPublic: get<boolean>(PUBLIC_KEY) === true,
        });
      }
    }
  }
  return routes;
}

describe('route declarations (auth off)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ extraModules: [UndeclaredModule] });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('a route without a capability declaration is denied, even to the system admin', async () => {
    const res = await t.http().get('/api/v1/test-undeclared').expect(403);
    expect(res.body).toEqual({ error: 'route declares no capability; denied', code: 'ROUTE_UNDECLARED' });
    expect(res.text).not.toContain('should never be served');
  });

  it('the same controller’s declared route is served', async () => {
    expect((await t.http().get('/api/v1/test-undeclared/declared').expect(200)).body).toEqual({ ok: true });
  });

  it('census: every kernel route declares a capability or is explicitly public', () => {
    const routes = census(t).filter((r) => !r.path.startsWith('/api/v1/test-undeclared'));
    expect(routes.length).toBeGreaterThan(15);
    const undeclared = routes.filter((r) => !r.isPublic && !(r.capabilities && r.capabilities.length > 0));
    expect(undeclared).toEqual([]);
    expect(
      routes
        .filter((r) => r.isPublic)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/healthz', '/readyz']);
  });
});

describe('route declarations (auth on, no credential resolvers yet)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { HELDAR_AUTH_ENABLED: 'true' } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('every non-public route answers an anonymous caller 401; public ones answer', async () => {
    const routes = census(t);
    for (const r of routes) {
      const path = r.path.replace(/:[a-z_]+/gi, 'x');
      const verb = r.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
      const client = t.http();
      const res = await client[verb](path).send({});
      if (r.isPublic) {
        expect([200, 503]).toContain(res.status);
      } else {
        expect({ route: `${r.method} ${r.path}`, status: res.status, body: res.body }).toEqual({
          route: `${r.method} ${r.path}`,
          status: 401,
          body: { error: 'authentication required', code: 'UNAUTHORIZED' },
        });
      }
    }
  });
});
