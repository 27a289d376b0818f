import { Controller, Get, Module } from '@nestjs/common';
import { RequireCapability } from '../../src/auth/decorators';
import { census } from '../support/census';
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
    const routes = census(t.app).filter((r) => !r.path.startsWith('/api/v1/test-undeclared'));
    expect(routes.length).toBeGreaterThan(15);
    const undeclared = routes.filter(
      (r) => !r.isPublic && !r.nodeOnly && !r.authenticatedOnly && r.capabilities.length === 0,
    );
    expect(undeclared).toEqual([]);
    expect(
      routes
        .filter((r) => r.isPublic)
        .map((r) => r.path)
        .sort(),
    ).toEqual([
      '/api/v1/auth/login',
      '/api/v1/auth/logout',
      '/healthz',
      '/internal/mediamtx-auth', // MediaMTX's callback: allow/deny from the token it forwards
      '/live/:name/:file', // built-in live HLS: the viewer token in the query is the credential
      '/media/playback/:id/:file', // a playback session's bytes: its token in the query, checked by the service
      '/media/playback/:id/index.m3u8', // and its playlist, the same way
      '/readyz',
    ]);
    // Node-to-node routes (cluster media): only a request another node signed gets through.
    expect(
      routes
        .filter((r) => r.nodeOnly)
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    ).toEqual(['GET /internal/v1/clips/:id', 'GET /internal/v1/segments/:id']);
  });
});
