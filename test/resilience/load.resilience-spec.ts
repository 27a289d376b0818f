import { connect, type Socket } from 'node:net';
import { EventsService } from '../../src/events/events.service';
import { EventStreamService } from '../../src/events/event-stream.service';
import { startTestApp, type TestApp } from '../support/test-app';
import { pct } from '../../bench/stats';
import { Report } from './report';

const HANG_MS = 5000;

/** One request with a hang deadline: its status (0 = no answer in time) and duration. */
async function timed(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; ms: number; retryAfter: string | null }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(HANG_MS) });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t0, retryAfter: res.headers.get('retry-after') };
  } catch {
    return { status: 0, ms: performance.now() - t0, retryAfter: null };
  }
}

describe('database contention (SQLite, the default single connection)', () => {
  let t: TestApp;
  const report = new Report('contention');

  beforeAll(async () => {
    t = await startTestApp({ env: { HELDAR_RECORDER_ENABLED: 'false', HELDAR_AI_ENABLED: 'false' } });
    for (let i = 0; i < 8; i++)
      await t
        .http()
        .post('/api/v1/cameras')
        .send({ id: `ct${i}`, name: `Contention ${i}` })
        .expect(201);
    await t
      .http()
      .post('/api/v1/cameras/ct0/zones')
      .send({
        name: 'All',
        polygon: [
          [0, 0],
          [1, 0],
          [1, 1],
          [0, 1],
        ],
      }) // prettier-ignore
      .expect(201);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('200 concurrent mixed reads and writes: no 5xx, not even 503', async () => {
    const json = { 'content-type': 'application/json' };
    let frame = 0;
    const mixes: Array<(i: number) => Promise<{ status: number; ms: number; retryAfter: string | null }>> = [
      () => timed(`${t.baseUrl}/api/v1/cameras`),
      (i) => timed(`${t.baseUrl}/api/v1/cameras/ct${i % 8}`),
      () => timed(`${t.baseUrl}/api/v1/events?limit=100`),
      (i) => timed(`${t.baseUrl}/api/v1/cameras/ct${i % 8}/timeline`),
      () => timed(`${t.baseUrl}/api/v1/system`),
      (i) =>
        timed(`${t.baseUrl}/api/v1/ai/events`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({
            camera_id: 'ct0',
            task_type: 'load',
            frame_id: `f${frame++}-${i}`,
            detections: Array.from({ length: 20 }, (_, j) => ({
              label: 'person',
              confidence: 0.8,
              bbox: [0.01 * j, 0.2, 0.1, 0.3],
              track_id: `${i}-${j}`,
            })),
          }),
        }),
      (i) =>
        timed(`${t.baseUrl}/api/v1/cameras/ct${i % 8}`, {
          method: 'PATCH',
          headers: json,
          body: JSON.stringify({ priority: i % 500 }),
        }),
      (i) =>
        timed(`${t.baseUrl}/api/v1/cameras/ct${i % 8}/zones`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({
            name: `z${i}-${frame}`,
            polygon: [
              [0, 0],
              [0.5, 0],
              [0.5, 0.5],
            ],
          }),
        }),
      (i) => timed(`${t.baseUrl}/api/v1/cameras/ct${i % 8}/zone-events?limit=50`),
    ];
    const all: Array<{ status: number; ms: number; retryAfter: string | null }> = [];
    for (let round = 0; round < 3; round++) {
      all.push(
        ...(await Promise.all(
          Array.from({ length: 200 }, (_, i) => mixes[i % mixes.length](i + round * 200)),
        )),
      );
    }
    const ms = all.map((r) => r.ms);
    report.info('requests', all.length);
    report.info('concurrency', 200);
    report.info('p50_ms', Math.round(pct(ms, 50)));
    report.info('p99_ms', Math.round(pct(ms, 99)));
    report.check(
      'responses_5xx_other_than_503',
      all.filter((r) => r.status >= 500 && r.status !== 503).length,
      '== 0',
    );
    report.check('responses_503', all.filter((r) => r.status === 503).length, '== 0');
    report.check(
      'responses_503_without_retry_after',
      all.filter((r) => r.status === 503 && !r.retryAfter).length,
      '== 0',
    );
    report.check('no_answer_within_5s', all.filter((r) => r.status === 0).length, '== 0');
    const statuses = new Set(all.map((r) => r.status));
    expect([...statuses].every((s) => s === 200 || s === 201)).toBe(true);
  });
});

describe('slow clients', () => {
  let t: TestApp;
  const report = new Report('slow_clients');
  const REQUEST_TIMEOUT_S = 3;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        HELDAR_RECORDER_ENABLED: 'false',
        HELDAR_AI_ENABLED: 'false',
        HELDAR_HTTP_REQUEST_TIMEOUT_S: String(REQUEST_TIMEOUT_S),
      },
    });
    await t.http().post('/api/v1/cameras').send({ id: 'sc', name: 'Slow' }).expect(201);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('slow-loris bodies are cut with 408 and never hold back the other clients', async () => {
    const port = Number(new URL(t.baseUrl).port);
    const SLOW = 50;
    const closedAt: number[] = [];
    const got408: boolean[] = [];
    const sockets: Socket[] = [];
    const t0 = performance.now();
    const timers: NodeJS.Timeout[] = [];
    await Promise.all(
      Array.from(
        { length: SLOW },
        (_, i) =>
          new Promise<void>((ready) => {
            const s = connect(port, '127.0.0.1', () => {
              s.write(
                `POST /api/v1/cameras HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"name":"`,
              );
              ready();
            });
            sockets.push(s);
            s.on('data', (d) => (got408[i] = String(d).startsWith('HTTP/1.1 408')));
            s.on('error', () => undefined);
            s.on('close', () => closedAt.push(performance.now() - t0));
            timers.push(setInterval(() => !s.destroyed && s.write('a'), 200)); // one byte every 200 ms
          }),
      ),
    );
    const normal: Array<{ status: number; ms: number }> = [];
    for (let i = 0; i < 40; i++) {
      normal.push(await timed(`${t.baseUrl}/api/v1/cameras/sc`));
      normal.push(
        await timed(`${t.baseUrl}/api/v1/cameras/sc`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: '{"priority":5}',
        }),
      );
    }
    const deadline = performance.now() + (REQUEST_TIMEOUT_S + 4) * 1000;
    while (closedAt.length < SLOW && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    timers.forEach(clearInterval);
    sockets.forEach((s) => s.destroy());
    report.info('slow_connections', SLOW);
    report.info('request_timeout_s', REQUEST_TIMEOUT_S);
    report.info('other_requests', normal.length);
    report.info(
      'other_p99_ms',
      Math.round(
        pct(
          normal.map((r) => r.ms),
          99,
        ),
      ),
    );
    report.check('other_requests_failed_or_over_5s', normal.filter((r) => r.status !== 200).length, '== 0');
    report.check('slow_connections_cut_by_server', got408.filter(Boolean).length, `== ${SLOW}`);
    report.check(
      'slowest_cut_s',
      Math.round(Math.max(...closedAt) / 100) / 10,
      `<= ${REQUEST_TIMEOUT_S + 2}`,
    );
  });

  it('an SSE reader that stops reading is cut off; a reading one gets every event; the API keeps answering', async () => {
    const port = Number(new URL(t.baseUrl).port);
    const streams = t.app.get(EventStreamService);
    // The stalled reader: subscribes, then never reads a byte again. (It cannot notice being cut
    // off either — it reads nothing — so the kernel's open stream count tells.)
    const stalled = connect(port, '127.0.0.1');
    stalled.on('error', () => undefined);
    await new Promise<void>((r) => stalled.once('connect', () => r()));
    stalled.write('GET /api/v1/events/stream?event_type=slow_probe HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((r) => stalled.once('data', () => r()));
    stalled.pause();
    expect(streams.openCount).toBe(1);

    const EVENTS = 800;
    const healthy = await fetch(`${t.baseUrl}/api/v1/events/stream?event_type=slow_probe`);
    const reader = healthy.body!.getReader();
    let seen = 0;
    const decoder = new TextDecoder();
    let tail = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const text = tail + decoder.decode(value, { stream: true });
        const lines = text.split('\n');
        tail = lines.pop() ?? '';
        seen += lines.filter((l) => l.startsWith('id:')).length;
        if (seen >= EVENTS) return;
      }
    })();
    const events = t.app.get(EventsService);
    const blob = 'x'.repeat(40_000); // 800 × 40 kB ≈ 32 MB: far past socket buffers and the 1 MiB cap
    const api: Array<{ status: number; ms: number }> = [];
    for (let i = 0; i < EVENTS; i++) {
      await events.emitExternal({ type: 'slow_probe', payload: { i, blob } });
      if (i % 10 === 0) api.push(await timed(`${t.baseUrl}/api/v1/cameras/sc`));
    }
    await Promise.race([reading, new Promise((r) => setTimeout(r, 15_000))]);
    const openWhileReading = streams.openCount; // the reading client's stream only
    await reader.cancel().catch(() => undefined);
    stalled.destroy();
    report.info('events', EVENTS);
    report.info('event_bytes', 40_000);
    report.check('streams_open_besides_the_reading_client', openWhileReading - 1, '== 0');
    report.check('reading_client_events_missed', EVENTS - seen, '== 0');
    report.check('api_requests_failed_or_over_5s', api.filter((r) => r.status !== 200).length, '== 0');
  });
});
