import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { ApiKeyEntity } from '../../src/auth/entities/api-key.entity';
import { newApiKey, sha256Hex } from '../../src/auth/tokens';
import { DatabaseService } from '../../src/database/database.service';
import { EventStreamService } from '../../src/events/event-stream.service';
import { EventsService, type ExternalEvent } from '../../src/events/events.service';
import { startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

interface Frame {
  id: string;
  event: string;
  data: { seq: number; event_type: string; camera_id: string | null; severity: string; payload: object };
}

/** A real SSE client over `http.get`: frames and comments as they arrive, readable or stalled. */
class SseClient {
  readonly frames: Frame[] = [];
  readonly comments: string[] = [];
  res!: IncomingMessage;
  closed = false;
  private buf = '';
  private req!: ClientRequest;
  private readonly waiters = new Set<() => void>();

  static open(
    t: TestApp,
    path: string,
    opts: { headers?: Record<string, string>; stalled?: boolean } = {},
  ): Promise<SseClient> {
    const c = new SseClient();
    return new Promise((resolve, reject) => {
      c.req = get(`${t.baseUrl}${path}`, { headers: opts.headers }, (res) => {
        c.res = res;
        res.setEncoding('utf8');
        res.on('error', () => undefined); // a cut-off stream errors ("aborted"): seen as `closed`
        res.on('close', () => {
          c.closed = true;
          c.notify();
        });
        if (!opts.stalled) c.read();
        resolve(c);
      });
      c.req.on('error', reject);
    });
  }

  /** Start (or resume) consuming the body. */
  read(): void {
    this.res.on('data', (chunk: string) => {
      this.buf += chunk;
      for (let end = this.buf.indexOf('\n\n'); end !== -1; end = this.buf.indexOf('\n\n')) {
        this.parse(this.buf.slice(0, end));
        this.buf = this.buf.slice(end + 2);
      }
      this.notify();
    });
  }

  private parse(block: string): void {
    const f: Record<string, string> = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else {
        const i = line.indexOf(': ');
        f[line.slice(0, i)] = line.slice(i + 2);
      }
    }
    if (f.data !== undefined) this.frames.push({ id: f.id, event: f.event, data: JSON.parse(f.data) });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  get ids(): number[] {
    return this.frames.map((f) => Number(f.id));
  }

  /** Resolve once `cond` holds (checked on every chunk); fail after `ms` saying what was awaited. */
  until(cond: (c: SseClient) => boolean, what: string, ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond(this)) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what} (${this.frames.length} frames)`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  close(): void {
    this.req.destroy();
  }
}

describe(`GET /api/v1/events/stream (${ENGINE})`, () => {
  let t: TestApp;
  let events: EventsService;
  const clients: SseClient[] = [];
  const open = async (path: string, opts?: Parameters<typeof SseClient.open>[2]) => {
    const c = await SseClient.open(t, path, opts);
    clients.push(c);
    return c;
  };
  const emit = (e: ExternalEvent) => events.emitExternal(e);
  /** Emit `n` events of `type` one after another; their seqs in order. */
  const emitMany = async (n: number, type: string, extra: Partial<ExternalEvent> = {}) => {
    const seqs: number[] = [];
    for (let i = 0; i < n; i++) seqs.push((await emit({ type, payload: { i }, ...extra })).seq);
    return seqs;
  };

  beforeAll(async () => {
    t = await startTestApp();
    events = t.app.get(EventsService);
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('opens with SSE headers and a comment, delivers live events as id/event/data, and forgets a client that leaves', async () => {
    const streams = t.app.get(EventStreamService);
    const c = await open('/api/v1/events/stream');
    expect(c.res.statusCode).toBe(200);
    expect(c.res.headers).toMatchObject({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    await c.until((x) => x.comments.includes('connected'), 'the opening comment');
    expect(streams.openCount).toBe(1);

    const a = await emit({ type: 'x_live', severity: 'warning', cameraId: 'cam_1', payload: { n: 1 } });
    const b = await emit({ type: 'x_live_other', payload: { n: 2 } });
    await c.until((x) => x.frames.length >= 2, 'two live events');
    expect(c.frames.map((f) => [f.id, f.event])).toEqual([
      [String(a.seq), 'x_live'],
      [String(b.seq), 'x_live_other'],
    ]);
    // `data` is exactly the list API's JSON of the event.
    const listed = await t
      .http()
      .get(`/api/v1/events?since_seq=${a.seq - 1}&event_type=x_live`)
      .expect(200);
    expect(c.frames[0].data).toEqual(listed.body[0]);
    expect(c.frames[0].data).toMatchObject({
      seq: a.seq,
      event_type: 'x_live',
      severity: 'warning',
      camera_id: 'cam_1',
      payload: { n: 1 },
    });

    c.close();
    await waitFor(async () => streams.openCount === 0, 5_000, 'the stream to be forgotten');
  });

  it('filters by camera_id, event_type (exact and prefix*) and min_severity, live and in replay', async () => {
    const base = (await emit({ type: 'x_base' })).seq;
    const q = {
      camera: 'camera_id=cam_1',
      exact: 'event_type=x_exact',
      prefix: 'event_type=zz_*',
      warning: 'min_severity=warning',
      both: 'event_type=zz_*&min_severity=critical',
    };
    type Stream = keyof typeof q;
    const openAll = async (extra: string) => {
      const entries = await Promise.all(
        Object.entries(q).map(
          async ([k, v]) => [k, await open(`/api/v1/events/stream?${v}${extra}`)] as const,
        ),
      );
      await Promise.all(entries.map(([, c]) => c.until((x) => x.comments.includes('connected'), 'the open')));
      return Object.fromEntries(entries) as Record<Stream, SseClient>;
    };
    const live = await openAll('');

    // Each stream ends with a fence of its own, emitted after everything it must (not) see.
    const sent: Array<[string, string, 'info' | 'warning' | 'critical', string | null]> = [
      ['e1', 'x_exact', 'info', 'cam_1'],
      ['e2', 'x_exact_more', 'warning', 'cam_2'],
      ['e3', 'zz_one', 'info', null],
      ['e4', 'zz_two', 'critical', 'cam_2'],
      ['e5', 'zzother', 'critical', 'cam_1'], // `zz_*` is a literal prefix: no `_` wildcard
      ['both', 'zz_fence', 'critical', 'cam_2'],
      ['camera', 'y_fence', 'info', 'cam_1'],
      ['exact', 'x_exact', 'info', 'cam_2'],
      ['prefix', 'zz_fence', 'info', 'cam_2'],
      ['warning', 'y_fence', 'warning', 'cam_2'],
    ];
    const seq: Record<string, number> = {};
    for (const [name, type, severity, cameraId] of sent)
      seq[name] = (await emit({ type, severity, cameraId })).seq;
    const expected: Record<Stream, string[]> = {
      camera: ['e1', 'e5', 'camera'],
      exact: ['e1', 'exact'],
      prefix: ['e3', 'e4', 'both', 'prefix'],
      warning: ['e2', 'e4', 'e5', 'both', 'warning'],
      both: ['e4', 'both'],
    };
    const check = async (streams: Record<Stream, SseClient>, phase: string) => {
      for (const k of Object.keys(q) as Stream[]) {
        const c = streams[k];
        await c.until((x) => x.ids.includes(seq[k]), `${phase} ${k}: its fence`);
        const upToFence = c.ids.slice(0, c.ids.indexOf(seq[k]) + 1);
        expect({ phase, k, seqs: upToFence }).toEqual({ phase, k, seqs: expected[k].map((n) => seq[n]) });
      }
    };
    await check(live, 'live');
    expect(live.camera.frames.every((f) => f.data.camera_id === 'cam_1')).toBe(true);
    expect(live.warning.frames.every((f) => f.data.severity !== 'info')).toBe(true);
    // The same filters over the table: a replay from before the first event.
    await check(await openAll(`&since_seq=${base}`), 'replay');
  });

  it('an event_type prefix with `_` inside matches literally, in the list and in a replay', async () => {
    const base = (await emit({ type: 'x_base' })).seq;
    const types = ['x_pre_a_one', 'x_pre_aother', 'x_pre_a_two', 'x_prea_b', 'x_pre_b_one'];
    const seqs = [];
    for (const type of types) seqs.push((await emit({ type })).seq);
    const listed = await t.http().get(`/api/v1/events?event_type=x_pre_a_*&since_seq=${base}`).expect(200);
    expect(listed.body.map((e: { event_type: string }) => e.event_type)).toEqual([
      'x_pre_a_one',
      'x_pre_a_two',
    ]);
    const c = await open(`/api/v1/events/stream?event_type=x_pre_a_*`, {
      headers: { 'Last-Event-ID': String(base) },
    });
    const fence = (await emit({ type: 'x_pre_a_fence' })).seq;
    await c.until((x) => x.ids.includes(fence), 'the fence');
    expect(c.ids).toEqual([seqs[0], seqs[2], fence]);
  });

  it('resumes after Last-Event-ID with exactly the missed events, then goes live', async () => {
    const seqs = await emitMany(6, 'x_resume');
    const c = await open('/api/v1/events/stream?event_type=x_resume', {
      headers: { 'Last-Event-ID': String(seqs[1]) },
    });
    await c.until((x) => x.frames.length >= 4, 'the 4 missed events');
    const more = await emitMany(2, 'x_resume');
    await c.until((x) => x.frames.length >= 6, 'two more live events');
    expect(c.ids).toEqual([...seqs.slice(2), ...more]);

    // `since_seq` for clients that cannot set headers; the header wins when both are sent.
    const q = await open(`/api/v1/events/stream?event_type=x_resume&since_seq=${seqs[3]}`);
    const h = await open(`/api/v1/events/stream?event_type=x_resume&since_seq=0`, {
      headers: { 'Last-Event-ID': String(more[0]) },
    });
    await q.until((x) => x.frames.length >= 4, 'since_seq replay');
    await h.until((x) => x.frames.length >= 1, 'header replay');
    const fence = await emit({ type: 'x_resume' });
    await Promise.all([c, q, h].map((x) => x.until((y) => y.ids.includes(fence.seq), 'the fence')));
    expect(c.ids).toEqual([...seqs.slice(2), ...more, fence.seq]);
    expect(c.frames.every((f) => f.event === 'x_resume')).toBe(true);
    expect(q.ids).toEqual([seqs[4], seqs[5], ...more, fence.seq]);
    expect(h.ids).toEqual([more[1], fence.seq]);

    // Without a cursor: live only.
    const fresh = await open('/api/v1/events/stream?event_type=x_resume');
    await fresh.until((x) => x.comments.includes('connected'), 'the open');
    const next = await emit({ type: 'x_resume' });
    await fresh.until((x) => x.frames.length >= 1, 'a live event');
    expect(fresh.ids).toEqual([next.seq]);
  });

  // Replays of several MiB: more than loopback buffers hold, so a stalled client blocks the replay
  // (mid-way: its held events are replayed too, and dropped; in its last page: only held ones bring them).
  it.each([
    ['reads as frames come (1100 × 8 KiB, three pages)', 'x_conc_reading', false, 1100, 8],
    ['stalls while a middle page is written (1100 × 8 KiB)', 'x_conc_middle', true, 1100, 8],
    ['stalls while the last page is written (400 × 32 KiB, one page)', 'x_conc_last', true, 400, 32],
  ])(
    'no gap and no duplicate when events commit while a replay runs: the client %s',
    async (_, type, stalled, count, kib) => {
      const pad = 'p'.repeat(kib * 1024);
      const before = await emitMany(count, type, { payload: { pad } });
      const cursor = before[49];
      const during: number[] = [];
      let started!: () => void;
      const fiftyIn = new Promise<void>((r) => (started = r));
      let opened = false;
      const writer = (async () => {
        // From before the connection until 300 events after its headers (by then it is subscribed).
        for (let i = 0, after = 0; after < 300; i++) {
          during.push((await emit({ type, payload: { i, pad } })).seq);
          if (i === 50) started();
          if (opened) after++;
          await new Promise((r) => setImmediate(r)); // on SQLite an emit may never leave the microtask queue
        }
      })();
      await fiftyIn;
      const c = await open(`/api/v1/events/stream?event_type=${type}`, {
        headers: { 'Last-Event-ID': String(cursor) },
        stalled,
      });
      opened = true;
      await writer;
      if (stalled) c.read();
      // Two fences: the first may be replayed, so only the second surely comes after the held ones.
      const fences: number[] = [];
      for (const which of ['first', 'second']) {
        fences.push((await emit({ type })).seq);
        await c.until((x) => x.ids.includes(fences.at(-1)!), `the ${which} fence`, 15_000);
      }
      const want = [...before.slice(50), ...during, ...fences].sort((a, b) => a - b);
      expect(new Set(c.ids).size).toBe(c.ids.length); // no duplicate
      expect(c.ids).toEqual(want); // no gap, in order
    },
  );

  // PostgreSQL: the stream reads up to the visibility horizon, which stays behind a writer left open.
  // A client resuming then has read "everything" (up to a horizon below its backlog) before its
  // backlog is even readable; stalled in that backlog it is still replaying, not a slow live client.
  it('a resuming client stalled in a backlog the horizon had not reached yet is paced, not cut off', async () => {
    const type = 'x_lagging_horizon';
    const db = t.app.get(DatabaseService);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let first!: number;
    let inserted!: () => void;
    const insertedP = new Promise<void>((r) => (inserted = r));
    // A writer left open (PostgreSQL; SQLite has one writer, so there it commits at once).
    const held = db.transaction(async () => {
      first = (await emit({ type })).seq;
      inserted();
      if (ENGINE === 'postgres') await gate;
    });
    if (ENGINE === 'sqlite') await held;
    else await insertedP;
    const pad = 'p'.repeat(32 * 1024);
    const backlog = await emitMany(300, type, { payload: { pad } }); // ~9.6 MiB: more than loopback buffers
    const c = await open(`/api/v1/events/stream?event_type=${type}`, {
      headers: { 'Last-Event-ID': String(first - 1) },
      stalled: true,
    });
    await new Promise((r) => setTimeout(r, 200));
    release();
    await held;
    await new Promise((r) => setTimeout(r, 300)); // the backlog is readable now: the stream fills the socket
    // Live events while the client is still stalled in its backlog: more than a slow client may owe.
    const live = await emitMany(40, type, { payload: { pad } });
    await new Promise((r) => setTimeout(r, 300));
    expect(c.closed).toBe(false);
    c.read();
    const fence = (await emit({ type })).seq;
    await c.until((x) => x.ids.includes(fence), 'the fence', 15_000);
    expect(c.closed).toBe(false);
    expect(c.ids).toEqual([first, ...backlog, ...live, fence]);
  });

  it.each([
    ['min_severity=loud', /min_severity must be one of/],
    ['event_type=Bad%20Type', /event_type must be a type name/],
    ['camera_id=' + 'c'.repeat(65), /camera_id must be shorter/],
    ['since_seq=-1', /since_seq must not be less than 0/],
    ['since_seq=abc', /since_seq must be an integer/],
    ['severity=warning', /property severity should not exist/],
    ['limit=5', /property limit should not exist/],
  ])('rejects %s with a 400 envelope before any stream starts', async (query, message) => {
    const res = await t.http().get(`/api/v1/events/stream?${query}`).expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: expect.stringMatching(message), code: 'VALIDATION_FAILED' });
  });

  it('rejects a Last-Event-ID that is not a seq', async () => {
    for (const id of ['abc', '-3', '1.5', '9'.repeat(16)]) {
      const res = await t.http().get('/api/v1/events/stream').set('Last-Event-ID', id).expect(400);
      expect(res.body).toEqual({ error: expect.stringMatching(/Last-Event-ID/), code: 'VALIDATION_FAILED' });
    }
  });

  it('cuts off a client that stops reading; the others keep receiving and it can resume', async () => {
    const streams = t.app.get(EventStreamService);
    const stalled = await open('/api/v1/events/stream?event_type=x_big', { stalled: true });
    const reader = await open('/api/v1/events/stream?event_type=x_big');
    await reader.until((x) => x.comments.includes('connected'), 'the reader open');
    expect(streams.openCount).toBe(2);

    const blob = 'x'.repeat(256 * 1024);
    const seqs: number[] = [];
    // Loopback socket buffers hold a few MiB; past them the server's 1 MiB bound cuts the client.
    while (streams.openCount === 2) {
      if (seqs.length >= 400)
        throw new Error(`the stalled client was not cut off after ${seqs.length} events`);
      seqs.push((await emit({ type: 'x_big', payload: { blob } })).seq);
      await new Promise((r) => setImmediate(r));
    }
    expect(streams.openCount).toBe(1);

    // The reader got everything and still gets new events; the server answers.
    const after = await emit({ type: 'x_big', payload: { small: true } });
    await reader.until((x) => x.ids.includes(after.seq), 'the event after the cut-off', 20_000);
    expect(reader.ids).toEqual([...seqs, after.seq]);
    await t.http().get('/healthz').expect(200);

    // The stalled client, once it reads, finds its stream ended part-way.
    stalled.read();
    await stalled.until((x) => x.closed, 'the cut-off stream to end');
    expect(stalled.frames.length).toBeLessThan(seqs.length);
    expect(stalled.ids).toEqual(seqs.slice(0, stalled.frames.length));

    // Resuming from its last complete event brings exactly the rest.
    const lastId = stalled.frames.at(-1)?.id ?? String(seqs[0] - 1);
    const resumed = await open('/api/v1/events/stream?event_type=x_big', {
      headers: { 'Last-Event-ID': lastId },
    });
    await resumed.until((x) => x.ids.includes(after.seq), 'the resumed stream', 20_000);
    expect(resumed.ids).toEqual([...seqs.slice(stalled.frames.length), after.seq]);
  });

  it('ends open streams when the application shuts down', async () => {
    const other = await startTestApp();
    const c = await SseClient.open(other, '/api/v1/events/stream');
    const closing = c.until((x) => x.comments.includes('connected'), 'the open').then(() => other.close());
    try {
      await c.until((x) => x.closed, 'the stream to end on shutdown', 5_000);
      expect(c.res.complete).toBe(true); // a clean end, not a cut connection
    } finally {
      c.close(); // on failure, so that the close below can finish
      await closing;
    }
  });
});

describe(`the event log and a camera-scoped credential (${ENGINE})`, () => {
  const ADMIN = { username: 'root', password: 'root-password-1' };
  let t: TestApp;
  let admin: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      },
    });
    const token = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token as string;
    admin = { Authorization: `Bearer ${token}` };
  });

  afterAll(async () => {
    await t?.close();
  });

  it('a scoped key cannot be given events:read, neither when minted nor by a later change', async () => {
    const reader = (
      await t
        .http()
        .post('/api/v1/api-keys')
        .set(admin)
        .send({ name: 'reader', capabilities: ['camera:read', 'events:read'] })
        .expect(201)
    ).body;
    const narrowed = await t
      .http()
      .patch(`/api/v1/api-keys/${reader.id}`)
      .set(admin)
      .send({ scope_kind: 'cameras', scope_cameras: ['cam_a'] })
      .expect(400);
    expect(narrowed.body.error).toMatch(/cannot hold admin or events:read/);
    const scoped = (
      await t
        .http()
        .post('/api/v1/api-keys')
        .set(admin)
        .send({
          name: 'scoped',
          capabilities: ['camera:read'],
          scope_kind: 'cameras',
          scope_cameras: ['cam_a'],
        })
        .expect(201)
    ).body;
    const widened = await t
      .http()
      .patch(`/api/v1/api-keys/${scoped.id}`)
      .set(admin)
      .send({ capabilities: ['camera:read', 'events:read'] })
      .expect(400);
    expect(widened.body.error).toMatch(/cannot hold admin or events:read/);
    for (const path of ['/api/v1/events', '/api/v1/events/stream', '/api/v1/events/types']) {
      const res = await t.http().get(path).set('X-API-Key', scoped.key);
      expect({ path, status: res.status, code: res.body.code }).toEqual({
        path,
        status: 403,
        code: 'MISSING_CAPABILITY',
      });
    }
  });

  it("a scoped key holding events:read anyway (a row from before the rule) reads only its cameras' events", async () => {
    const key = newApiKey();
    await t.app.get(DatabaseService).run((m) =>
      m.getRepository(ApiKeyEntity).insert({
        id: 'key_legacy_scoped',
        name: 'legacy',
        keyHash: sha256Hex(key),
        keyPrefix: key.slice(0, 12),
        role: 'integration',
        capabilities: ['events:read'],
        scopeKind: 'cameras',
        scopeCameras: ['cam_a'],
        active: true,
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
        createdAt: new Date().toISOString(),
      }),
    );
    const events = t.app.get(EventsService);
    const start = await events.maxSeq();
    const a = await events.emitExternal({ type: 'x_scope', cameraId: 'cam_a' });
    for (let i = 0; i < 3; i++) await events.emitExternal({ type: 'x_scope', cameraId: 'cam_b' });
    await events.emitExternal({ type: 'x_scope' }); // camera-less
    const h = { 'X-API-Key': key };
    // The newest event is someone else's: the page still holds the newest of the key's own.
    expect(
      (await t.http().get('/api/v1/events?limit=1').set(h).expect(200)).body.map(
        (e: { seq: number }) => e.seq,
      ),
    ).toEqual([a.seq]);
    expect(
      (await t.http().get(`/api/v1/events?since_seq=${start}&limit=1`).set(h).expect(200)).body.map(
        (e: { seq: number }) => e.seq,
      ),
    ).toEqual([a.seq]);
    expect(
      (await t.http().get(`/api/v1/events?since_seq=${start}`).set(h).expect(200)).body.map(
        (e: { seq: number }) => e.seq,
      ),
    ).toEqual([a.seq]);
    const c = await SseClient.open(t, `/api/v1/events/stream?since_seq=${start}`, { headers: h });
    try {
      await c.until((x) => x.ids.includes(a.seq), 'the replay');
      await events.emitExternal({ type: 'x_live', cameraId: 'cam_b' });
      await events.emitExternal({ type: 'x_live' });
      const live = await events.emitExternal({ type: 'x_live', cameraId: 'cam_a' });
      await c.until((x) => x.ids.includes(live.seq), 'the live event');
      expect(c.ids).toEqual([a.seq, live.seq]);
    } finally {
      c.close();
    }
  });
});
