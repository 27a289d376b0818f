import { SwaggerModule } from '@nestjs/swagger';
import { buildOpenApi } from '../../src/app.factory';
import { startTestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/** What boot does before /readyz answers, and what it leaves for later. */
describe(`work at boot (${ENGINE})`, () => {
  afterEach(() => jest.restoreAllMocks());

  it('the OpenAPI document is built on its first request, once, and served whole at /openapi.json, /docs and /docs-yaml', async () => {
    const build = jest.spyOn(SwaggerModule, 'createDocument');
    const t = await startTestApp();
    try {
      expect(build).not.toHaveBeenCalled(); // not at boot
      await t.http().get('/readyz').expect(200);
      expect(build).not.toHaveBeenCalled();

      const [a, b] = await Promise.all([t.http().get('/openapi.json'), t.http().get('/openapi.json')]);
      expect(a.status).toBe(200);
      expect(a.headers['content-type']).toMatch(/application\/json/);
      expect(build).toHaveBeenCalledTimes(1);
      expect(b.body).toEqual(a.body);

      // The same document the OpenAPI script writes (openapi.json in the repository).
      const expected = JSON.parse(JSON.stringify(buildOpenApi(t.app))) as {
        paths: Record<string, unknown>;
        components: { schemas: Record<string, unknown> };
      };
      expect(a.body).toEqual(expected);
      expect(Object.keys(a.body.paths).length).toBeGreaterThan(50);
      expect(Object.keys(a.body.paths)).toEqual(
        expect.arrayContaining(['/api/v1/cameras', '/api/v1/events', '/readyz', '/api/v1/system']),
      );
      build.mockClear();

      // Swagger UI embeds the document it built once.
      const ui = await t.http().get('/docs/').expect(200);
      expect(ui.text).toContain('swagger-ui');
      const init = await t.http().get('/docs/swagger-ui-init.js').expect(200);
      expect(init.text).toContain('"/api/v1/cameras"');
      expect(init.text).toContain(`"title": "Heldar"`);
      const yaml = await t.http().get('/docs-yaml').expect(200);
      expect(yaml.text).toContain('/api/v1/cameras:');
      expect(build).not.toHaveBeenCalled();
    } finally {
      await t.close();
    }
  });
});
