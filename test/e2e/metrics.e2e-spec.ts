import { createServer, type Server } from 'node:http';
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import { EventsService } from '../../src/events/events.service';
import { startTestApp, type TestApp, waitFor, withClockAhead } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const ADMIN = { username: 'root', password: 'root-password-1' };
/** One sample line of the text format: name, optional {labels}, a value (strict, beyond the parser). */
const SAMPLE_LINE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;

describe(`/metrics (${ENGINE})`, () => {
  let t: TestApp;
  let admin: string;
  let receiver: Server;
  let receiverUrl = '';
  const bearer = () => ({ Authorization: `Bearer ${admin}` });

  const scrape = async (): Promise<{ text: string; families: Map<string, PromFamily> }> => {
    const res = await t.http().get('/metrics').set(bearer()).expect(200);
    // Express orders the parameters its own way; Prometheus needs the type and the format version.
    expect(res.headers['content-type']).toMatch(/^text\/plain;/);
    expect(res.headers['content-type']).toContain('version=0.0.4');
    expect(res.headers['content-type']).toContain('charset=utf-8');
    const families = new Map(parsePrometheusTextFormat(res.text).map((f) => [f.name, f]));
    return { text: res.text, families };
  };
  const value = (fams: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}) =>
    Number(
      fams.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
        ?.value ?? NaN,
    );

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    t = await startTestApp({
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_RECORDER_ENABLED: 'false',
        HELDAR_AI_ENABLED: 'false',
        HELDAR_MODULE_HEALTH_INTERVAL_S: '1',
      },
    });
    admin = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token;
  });

  afterAll(async () => {
    await t?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it('needs system:read and refuses camera-scoped keys', async () => {
    expect((await t.http().get('/metrics').expect(401)).body.code).toBe('UNAUTHORIZED');
    const scoped = (
      await t
        .http()
        .post('/api/v1/api-keys')
        .set(bearer())
        .send({
          name: 'scoped',
          capabilities: ['system:read', 'camera:read'],
          scope_kind: 'cameras',
          scope_cameras: ['x'],
        })
        .expect(201)
    ).body.key as string;
    expect((await t.http().get('/metrics').set('X-API-Key', scoped).expect(403)).body.code).toBe(
      'FLEET_ONLY',
    );
    const fleet = (
      await t.http().post('/api/v1/api-keys').set(bearer()).send({ name: 'prom', role: 'viewer' }).expect(201)
    ).body.key as string;
    await t.http().get('/metrics').set('X-API-Key', fleet).expect(200);
  });

  it('parses as Prometheus text, escapes label values, and counts what happened', async () => {
    const name = 'Gate "A" \\ back';
    await t.http().post('/api/v1/cameras').set(bearer()).send({ id: 'm1', name }).expect(201);
    await t.http().post('/api/v1/cameras').set(bearer()).send({ id: 'm2', name: 'Yard' }).expect(201);
    await t.http().get('/api/v1/cameras/m1').set(bearer()).expect(200);
    await t.http().get('/api/v1/cameras/m2').set(bearer()).expect(200);
    await t.http().get('/api/v1/cameras/nope').set(bearer()).expect(404);
    const batch = {
      camera_id: 'm1',
      task_type: 'motion',
      frame_id: 'f-1',
      detections: [{ label: 'person', confidence: 0.9, bbox: [0.1, 0.1, 0.2, 0.2], track_id: '1' }],
    };
    await t.http().post('/api/v1/ai/events').set(bearer()).send(batch).expect(200);
    await t.http().post('/api/v1/ai/events').set(bearer()).send(batch).expect(200); // the same frame again
    await t
      .http()
      .post('/api/v1/ai/events')
      .set(bearer())
      .send({ camera_id: 'nope', task_type: 'x' })
      .expect(404);
    await t
      .http()
      .post('/api/v1/webhooks')
      .set(bearer())
      .send({ url: receiverUrl, event_types: ['metrics_probe'] })
      .expect(201);
    await t.app.get(EventsService).emitExternal({ type: 'metrics_probe', severity: 'warning' });

    const { text, families } = await waitFor(
      async () => {
        const s = await scrape();
        return value(s.families, 'heldar_webhook_deliveries_total', { outcome: 'delivered' }) >= 1 ? s : null;
      },
      15_000,
      'the webhook delivery to be counted',
    );
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
      expect({ line, ok: SAMPLE_LINE.test(line) }).toEqual({ line, ok: true });
    }
    const info = families.get('heldar_camera_info')!.metrics.map((m) => m.labels);
    expect(info).toEqual(
      expect.arrayContaining([
        { camera: 'm1', name },
        { camera: 'm2', name: 'Yard' },
      ]),
    );
    expect(text).toContain('name="Gate \\"A\\" \\\\ back"');

    expect(value(families, 'heldar_build_info')).toBe(1);
    expect(value(families, 'heldar_cameras')).toBe(2);
    expect(families.get('heldar_segments')?.type).toBe('GAUGE');
    // Prometheus naming (`promtool check metrics`): only a counter's name ends in `_total` (the
    // kernel's own families; prom-client's default nodejs_active_*_total gauges are not ours).
    const misnamed = [...families.values()].filter(
      (f) => f.name.startsWith('heldar_') && f.type !== 'COUNTER' && f.name.endsWith('_total'),
    );
    expect(misnamed.map((f) => `${f.name} (${f.type})`)).toEqual([]);
    expect(value(families, 'heldar_cameras_recording')).toBe(0);
    expect(value(families, 'heldar_ingest_batches_total', { outcome: 'stored' })).toBe(1);
    expect(value(families, 'heldar_ingest_batches_total', { outcome: 'duplicate' })).toBe(1);
    expect(value(families, 'heldar_ingest_batches_total', { outcome: 'rejected' })).toBe(1);
    expect(value(families, 'heldar_ingest_detections_total')).toBe(1);
    expect(families.get('heldar_ingest_duration_seconds')?.metrics[0].count).toBe('2'); // stored + duplicate
    expect(value(families, 'heldar_events_total', { severity: 'warning' })).toBeGreaterThanOrEqual(1);
    expect(value(families, 'heldar_disk_total_bytes')).toBeGreaterThan(0);
    expect(value(families, 'heldar_live_publishers')).toBe(0);
    expect(families.get('process_resident_memory_bytes')?.type).toBe('GAUGE');

    // Requests are labelled by route pattern (bounded), never by the concrete URL. (The parser
    // library drops the labels of histogram series, so these are read from the checked lines.)
    expect(families.get('heldar_http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    const counts = new Map(
      text
        .split('\n')
        .filter((l) => l.startsWith('heldar_http_request_duration_seconds_count{'))
        .map((l) => {
          const labels = Object.fromEntries(
            [...l.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
          );
          return [`${labels.method} ${labels.route} ${labels.status}`, Number(l.split(' ').at(-1))] as const;
        }),
    );
    expect(counts.get('GET /api/v1/cameras/:id 200')).toBe(2);
    expect(counts.get('GET /api/v1/cameras/:id 404')).toBe(1);
    expect(counts.get('POST /api/v1/ai/events 200')).toBe(2);
    expect([...counts.keys()].some((r) => r.includes('/m1') || r.includes('/nope'))).toBe(false);
  });

  it('sidecar health is a series per module', async () => {
    const health = createServer((req, res) => res.writeHead(req.url === '/heldar/health' ? 200 : 404).end());
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(health.address() as { port: number }).port}`;
      await t
        .http()
        .post('/api/v1/modules')
        .set(bearer())
        .send({ id: 'reports', name: 'Reports', base_url: base })
        .expect(201);
      await waitFor(
        async () => {
          const m = await t.http().get('/api/v1/modules/reports').set(bearer()).expect(200);
          return m.body.state === 'healthy';
        },
        15_000,
        'the sidecar to be probed healthy',
      );
      // The store-wide figures are cached for 30 s: move the clock past it and scrape twice (refresh runs in the background).
      const fams = await withClockAhead(t, 31_000, async () => {
        await scrape();
        return waitFor(
          async () => {
            const s = await scrape();
            return value(s.families, 'heldar_module_up', { module: 'reports' }) === 1 ? s.families : null;
          },
          5_000,
          'heldar_module_up{module="reports"} 1',
        );
      });
      expect(
        fams.get('heldar_module_up')!.metrics.find((m) => m.labels?.module === 'reports')?.labels,
      ).toEqual({
        module: 'reports',
        health: 'healthy',
      });
    } finally {
      await new Promise((r) => health.close(r));
    }
  });
});
