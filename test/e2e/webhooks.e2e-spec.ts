import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { DatabaseService } from '../../src/database/database.service';
import { EventsService } from '../../src/events/events.service';
import { WebhooksRepository } from '../../src/webhooks/webhooks.repository';
import { rawQuery, startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

interface Received {
  headers: Record<string, string>;
  body: string;
  json: {
    id: string;
    seq: number;
    type: string;
    severity: string;
    camera_id: string | null;
    payload: Record<string, unknown>;
  };
}

/** A real HTTP receiver on loopback; `answer` decides each response (default 200). */
class Receiver {
  readonly got: Received[] = [];
  answer: (r: Received) => number = () => 200;
  private server!: Server;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const r: Received = {
          headers: req.headers as Record<string, string>,
          body,
          json: body ? JSON.parse(body) : {}, // a sidecar's health probe has no body
        };
        this.got.push(r);
        const code = this.answer(r);
        res.writeHead(code, code >= 300 && code < 400 ? { location: 'http://127.0.0.1:1/elsewhere' } : {});
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Seqs of the events delivered (health probes and tests aside), ascending. */
  get seqs(): number[] {
    return this.got
      .map((r) => r.json.seq)
      .filter((x) => typeof x === 'number' && x > 0)
      .sort((a, b) => a - b);
  }

  ofType(type: string): Received[] {
    return this.got.filter((r) => r.json.type === type);
  }
}

const FAST = {
  HELDAR_WEBHOOK_RETRY_SCHEDULE_S: '0.3,0.3,0.3',
  HELDAR_WEBHOOK_FAILING_AFTER: '3',
  HELDAR_WEBHOOK_TIMEOUT_MS: '2000',
};

describe(`webhooks (${ENGINE})`, () => {
  let t: TestApp;
  let rx: Receiver;

  beforeEach(async () => {
    rx = new Receiver();
    await rx.start();
    t = await startTestApp({ env: FAST });
  });

  afterEach(async () => {
    await t?.close();
    await rx?.stop();
  });

  const subscribe = async (extra: Record<string, unknown> = {}) =>
    (
      await t
        .http()
        .post('/api/v1/webhooks')
        .send({ url: rx.url, ...extra })
        .expect(201)
    ).body as {
      id: string;
      secret: string;
    };
  const emit = (
    type: string,
    payload: Record<string, unknown> = {},
    severity: 'info' | 'warning' | 'critical' = 'info',
  ) => t.app.get(EventsService).emitExternal({ type, severity, payload });

  it('delivers matching events signed per Standard Webhooks, and only those', async () => {
    const hook = await subscribe({ event_types: ['camera_*', 'door_open'], min_severity: 'info' });
    expect(hook.secret).toMatch(/^whsec_/);
    await t.http().post('/api/v1/cameras').send({ id: 'wc1', name: 'Door' }).expect(201);
    const other = await emit('something_else');
    const door = await emit('door_open', { door: 3 }, 'warning');
    await waitFor(
      async () => rx.ofType('door_open').length === 1 && rx.ofType('camera_created').length === 1,
      10_000,
      'two deliveries',
    );

    const verifier = new Webhook(hook.secret);
    for (const r of rx.got) {
      expect(verifier.verify(r.body, r.headers)).toEqual(r.json);
      expect(r.headers['webhook-id']).toMatch(/^msg_/);
    }
    const d = rx.ofType('door_open')[0].json;
    expect(d).toEqual({
      id: door.id,
      seq: door.seq,
      type: 'door_open',
      severity: 'warning',
      camera_id: null,
      site_id: null,
      timestamp: door.timestamp,
      payload: { door: 3 },
    });
    expect(rx.got.some((r) => r.json.seq === other.seq)).toBe(false);

    // The receiver has a message before the kernel has its response, let alone its ledger row:
    // the ledger is read once it has caught up (it commits outcomes in groups).
    const deliveries = await waitFor(
      async () => {
        const list = (await t.http().get(`/api/v1/webhooks/${hook.id}/deliveries`).expect(200))
          .body as Array<{
          event_type: string;
          status: string;
          attempt_log: unknown;
        }>;
        return list.every((x) => x.status === 'delivered') && list;
      },
      10_000,
      'the ledger',
    );
    expect(deliveries.map((x: { event_type: string; status: string }) => [x.event_type, x.status])).toEqual([
      ['door_open', 'delivered'],
      ['camera_created', 'delivered'],
    ]);
    expect(deliveries[0].attempt_log).toEqual([
      expect.objectContaining({ attempt: 1, ok: true, status_code: 200 }),
    ]);
  });

  it('min_severity filters, and history before the subscription is not replayed', async () => {
    const before = await emit('early_event', {}, 'critical');
    const hook = await subscribe({ min_severity: 'warning' });
    await emit('quiet', {}, 'info');
    const loud = await emit('loud', {}, 'critical');
    await waitFor(async () => rx.ofType('loud').length === 1, 10_000, 'the critical event');
    await t.app.get(EventsService).emitExternal({ type: 'marker', severity: 'warning' });
    await waitFor(async () => rx.ofType('marker').length === 1, 10_000, 'the marker');
    expect(rx.got.map((r) => r.json.seq)).not.toContain(before.seq);
    expect(rx.ofType('quiet')).toEqual([]);
    expect(rx.ofType('loud')[0].json.seq).toBe(loud.seq);
    expect(hook.id).toMatch(/^wh_/);
  });

  it('retries a failing delivery with the same webhook-id, then delivers; the ledger has every attempt', async () => {
    let failures = 2;
    rx.answer = () => (failures-- > 0 ? 503 : 200);
    const hook = await subscribe();
    const e = await emit('flaky');
    await waitFor(
      async () => rx.got.filter((r) => r.json.seq === e.seq).length === 3,
      15_000,
      'three attempts',
    );
    const ids = new Set(rx.got.filter((r) => r.json.seq === e.seq).map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    const [d] = await waitFor(
      async () => {
        const list = (
          await t.http().get(`/api/v1/webhooks/${hook.id}/deliveries?status=delivered`).expect(200)
        ).body;
        return list.length === 1 ? list : null;
      },
      10_000,
      'delivered status',
    );
    expect(d).toMatchObject({ attempts: 3, status: 'delivered', last_status_code: 200 });
    expect(d.attempt_log.map((a: { ok: boolean; status_code: number }) => [a.ok, a.status_code])).toEqual([
      [false, 503],
      [false, 503],
      [true, 200],
    ]);
  });

  it('goes dead after the last attempt, raises webhook_failing, and a replay delivers it (webhook_recovered)', async () => {
    rx.answer = (r) => (r.json.type === 'doomed' ? 500 : 200);
    const hook = await subscribe({ event_types: ['doomed', 'fine_*'] });
    const doomed = await emit('doomed');
    // A failing event never holds back the others.
    const fine = await emit('fine_1');
    await waitFor(async () => rx.ofType('fine_1').length === 1, 5_000, 'the healthy event');
    const dead = await waitFor(
      async () => {
        const list = (await t.http().get(`/api/v1/webhooks/${hook.id}/deliveries?status=dead`).expect(200))
          .body;
        return list.length === 1 ? list[0] : null;
      },
      15_000,
      'a dead delivery',
    );
    expect(dead).toMatchObject({ event_seq: doomed.seq, attempts: 4, last_status_code: 500 }); // 1 + 3 retries
    expect(rx.ofType('doomed').length).toBe(4);
    expect(fine.seq).toBeGreaterThan(doomed.seq);

    const failing = (await t.http().get('/api/v1/events?event_type=webhook_failing').expect(200)).body;
    expect(failing).toEqual([
      expect.objectContaining({ payload: expect.objectContaining({ webhook_id: hook.id }) }),
    ]);
    expect((await t.http().get(`/api/v1/webhooks/${hook.id}`).expect(200)).body).toMatchObject({
      failing: true,
    });

    rx.answer = () => 200;
    const replayed = await t
      .http()
      .post(`/api/v1/webhooks/${hook.id}/deliveries/${dead.id}/replay`)
      .expect(200);
    expect(replayed.body.id).toBe(dead.id);
    await waitFor(async () => rx.ofType('doomed').length === 5, 10_000, 'the replayed delivery');
    expect(rx.ofType('doomed')[4].headers['webhook-id']).toBe(dead.id);
    await waitFor(
      async () =>
        (await t.http().get('/api/v1/events?event_type=webhook_recovered').expect(200)).body.length === 1,
      10_000,
      'webhook_recovered',
    );
    expect((await t.http().get(`/api/v1/webhooks/${hook.id}`).expect(200)).body).toMatchObject({
      failing: false,
      consecutive_failures: 0,
    });
    await t.http().post(`/api/v1/webhooks/${hook.id}/deliveries/msg_nope/replay`).expect(404);
  });

  it('redirects are not followed; the test endpoint sends a verifiable message', async () => {
    const hook = await subscribe();
    rx.answer = () => 302;
    const res = (await t.http().post(`/api/v1/webhooks/${hook.id}/test`).expect(200)).body;
    expect(res).toMatchObject({ ok: false, status_code: 302, error: 'redirect not followed' });
    rx.answer = () => 200;
    const ok = (await t.http().post(`/api/v1/webhooks/${hook.id}/test`).expect(200)).body;
    expect(ok).toMatchObject({ ok: true, status_code: 200 });
    const sent = rx.got.find((r) => r.headers['webhook-id'] === ok.message_id)!;
    expect(new Webhook(hook.secret).verify(sent.body, sent.headers)).toMatchObject({ type: 'webhook_test' });
  });

  it('a burst writes every outcome to the ledger: one attempt row per try, each delivery in its own final state', async () => {
    const hook = await subscribe({ event_types: ['ledger_*'] });
    rx.answer = (r) => {
      const i = (r.json.payload as { i?: number } | undefined)?.i;
      return i !== undefined && i % 3 === 0 ? 503 : 204;
    };
    const failing = new Set<number>();
    for (let i = 0; i < 120; i++) {
      const e = await t.app.get(EventsService).emitExternal({ type: 'ledger_test', payload: { i } });
      if (i % 3 === 0) failing.add(e.seq);
    }
    const settled = async () => {
      const rows = await rawQuery(
        t,
        `SELECT id, event_seq, status, attempts, last_status_code, last_error, delivered_at, next_attempt_at
           FROM webhook_deliveries WHERE webhook_id = '${hook.id}'`,
      );
      return rows.length === 120 && rows.every((r) => r.status === 'delivered' || r.status === 'dead')
        ? rows
        : null;
    };
    const rows = await waitFor(settled, 20_000, 'every delivery delivered or dead');
    const attempts = await rawQuery(
      t,
      `SELECT delivery_id, attempt, ok, status_code, error FROM webhook_attempts WHERE webhook_id = '${hook.id}'`,
    );
    for (const d of rows) {
      const bad = failing.has(Number(d.event_seq));
      expect({ seq: Number(d.event_seq), ...d, id: undefined, event_seq: undefined }).toEqual({
        seq: Number(d.event_seq),
        id: undefined,
        event_seq: undefined,
        status: bad ? 'dead' : 'delivered',
        attempts: bad ? 4 : 1,
        last_status_code: bad ? 503 : 204,
        last_error: bad ? 'HTTP 503' : null,
        delivered_at: bad ? null : expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        next_attempt_at: null,
      });
      const mine = attempts
        .filter((a) => a.delivery_id === d.id)
        .map((a) => [Number(a.attempt), Boolean(a.ok), Number(a.status_code), a.error])
        .sort((x, y) => Number(x[0]) - Number(y[0]));
      expect(mine).toEqual(
        bad ? [1, 2, 3, 4].map((n) => [n, false, 503, 'HTTP 503']) : [[1, true, 204, null]],
      );
    }
    expect(attempts).toHaveLength(80 + 40 * 4);
  });

  it('a receiver answering 2xx with a body that never ends has the message: the attempt ends, the kernel hangs up', async () => {
    let closed = false;
    const endless = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.on('close', () => (closed = true));
        const chunk = Buffer.alloc(16 * 1024, 'x');
        const more = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', more);
        };
        more();
      });
    });
    await new Promise<void>((r) => endless.listen(0, '127.0.0.1', r));
    try {
      const hook = await subscribe({
        url: `http://127.0.0.1:${(endless.address() as AddressInfo).port}/hook`,
      });
      const res = (await t.http().post(`/api/v1/webhooks/${hook.id}/test`).expect(200)).body;
      expect(res).toMatchObject({ ok: true, status_code: 200, error: null });
      await waitFor(async () => closed, 5000, 'the kernel to hang up on the endless body');
    } finally {
      endless.closeAllConnections();
      await new Promise<void>((r) => endless.close(() => r()));
    }
  });

  it('validates subscriptions: URLs, secrets, patterns; lists mask userinfo and query', async () => {
    for (const [body, why] of [
      [{ url: 'ftp://example.org/x' }, /http or https/],
      [{ url: 'not a url' }, /valid URL/],
      [{ url: 'http://169.254.169.254/latest/meta-data' }, /link-local/],
      [{ url: 'http://[fe80::1]/x' }, /link-local/],
      [{ url: 'http://metadata.google.internal/x' }, /metadata/],
      [{ url: rx.url, secret: 'plain' }, /whsec_/],
      [{ url: rx.url, event_types: ['Bad Type'] }, /event_types/],
      [{ url: rx.url, min_severity: 'loud' }, /min_severity/],
      [{ url: rx.url, extra: 1 }, /extra/],
    ] as const) {
      const res = await t.http().post('/api/v1/webhooks').send(body).expect(400);
      expect(res.body.error).toMatch(why);
    }
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const created = (
      await t
        .http()
        .post('/api/v1/webhooks')
        .send({ url: `http://user:pw@127.0.0.1:${rx.port}/hook?token=Query-Secret`, secret, name: 'Ops' })
        .expect(201)
    ).body;
    expect(created.secret).toBe(secret);
    const listed = (await t.http().get('/api/v1/webhooks').expect(200)).body;
    expect(listed).toEqual([
      expect.objectContaining({ id: created.id, url: `http://***@127.0.0.1:${rx.port}/hook?***` }),
    ]);
    // (not a hex-like value: `abc` turned up inside a random id now and then)
    expect(JSON.stringify(listed)).not.toContain('Query-Secret');
    expect(JSON.stringify(listed)).not.toContain('whsec_');
    const [row] = await rawQuery(t, `SELECT secret FROM webhooks WHERE id = '${created.id}'`);
    expect(String(row.secret)).toMatch(/^enc:v2:/); // sealed at rest
    await t
      .http()
      .patch(`/api/v1/webhooks/${created.id}`)
      .send({ url: 'http://169.254.169.254/' })
      .expect(400);
    await t.http().patch(`/api/v1/webhooks/${created.id}`).send({ enabled: false }).expect(200);
    await t.http().get('/api/v1/webhooks/wh_nope').expect(404);
    await t.http().delete(`/api/v1/webhooks/${created.id}`).expect(204);
    await t.http().delete(`/api/v1/webhooks/${created.id}`).expect(404);
  });
});

describe(`webhook delivery slots (${ENGINE})`, () => {
  it('a hung receiver holds only its own share of the slots: another subscription is served meanwhile', async () => {
    // A receiver that reads each request and never answers (the attempt timeout is a minute away).
    const open = new Set<ServerResponse>();
    let most = 0;
    const hung = createServer((req, res) => {
      req.resume();
      open.add(res);
      most = Math.max(most, open.size);
      res.on('close', () => open.delete(res));
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const rx = new Receiver();
    await rx.start();
    const t = await startTestApp({
      env: {
        ...FAST,
        HELDAR_WEBHOOK_TIMEOUT_MS: '60000',
        HELDAR_WEBHOOK_CONCURRENCY: '4',
        HELDAR_WEBHOOK_SUBSCRIPTION_CONCURRENCY: '2',
      },
    });
    try {
      // The hung subscription first: its deliveries are queued ahead of the healthy one's.
      for (const url of [`http://127.0.0.1:${(hung.address() as AddressInfo).port}/hook`, rx.url]) {
        await t
          .http()
          .post('/api/v1/webhooks')
          .send({ url, event_types: ['slot_*'] })
          .expect(201);
      }
      const sent = [];
      for (let i = 0; i < 6; i++)
        sent.push(await t.app.get(EventsService).emitExternal({ type: 'slot_test', payload: { i } }));
      await waitFor(async () => rx.ofType('slot_test').length === 6, 10_000, 'the healthy subscription');
      expect(rx.seqs).toEqual(sent.map((e) => e.seq));
      expect(open.size).toBe(2); // the hung one holds its own two slots, no more
      expect(most).toBe(2);
    } finally {
      hung.closeAllConnections(); // its attempts fail now, so the kernel can stop
      await new Promise<void>((r) => hung.close(() => r()));
      await t.close();
      await rx.stop();
    }
  });
});

describe(`webhook delivery slots and the ledger (${ENGINE})`, () => {
  it('a slot is free once the receiver has answered: the next delivery does not wait for the ledger to commit', async () => {
    const rx = new Receiver();
    await rx.start();
    const t = await startTestApp({
      env: { ...FAST, HELDAR_WEBHOOK_CONCURRENCY: '1', HELDAR_WEBHOOK_SUBSCRIPTION_CONCURRENCY: '1' },
    });
    // The ledger is held shut: every outcome waits until the test opens it.
    const repo = t.app.get(WebhooksRepository);
    const record = repo.recordOutcome.bind(repo);
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const held = jest
      .spyOn(repo, 'recordOutcome')
      .mockImplementation((a, p) => opened.then(() => record(a, p)));
    try {
      const { id } = (
        await t
          .http()
          .post('/api/v1/webhooks')
          .send({ url: rx.url, event_types: ['ledger_slot_*'] })
          .expect(201)
      ).body as { id: string };
      const sent = [];
      for (let i = 0; i < 3; i++)
        sent.push(await t.app.get(EventsService).emitExternal({ type: 'ledger_slot_test', payload: { i } }));
      // One slot, three deliveries, no outcome committed yet: all three are received, in order.
      await waitFor(async () => rx.ofType('ledger_slot_test').length === 3, 10_000, 'three deliveries');
      expect(rx.ofType('ledger_slot_test').map((r) => r.json.seq)).toEqual(sent.map((e) => e.seq));
      const pending = await rawQuery(
        t,
        `SELECT status FROM webhook_deliveries WHERE webhook_id = '${id}' AND status = 'delivered'`,
      );
      expect(pending).toEqual([]); // nothing committed while the ledger is held
      open();
      // Then every outcome is in the ledger: one attempt each, each delivery delivered.
      await waitFor(
        async () =>
          (
            await rawQuery(
              t,
              `SELECT id FROM webhook_deliveries WHERE webhook_id = '${id}' AND status = 'delivered'`,
            )
          ).length === 3,
        10_000,
        'three delivered rows',
      );
      const attempts = await rawQuery(
        t,
        `SELECT attempt, ok FROM webhook_attempts WHERE webhook_id = '${id}' ORDER BY id`,
      );
      expect(attempts.map((a) => [Number(a.attempt), Boolean(a.ok)])).toEqual([
        [1, true],
        [1, true],
        [1, true],
      ]);
    } finally {
      open();
      held.mockRestore();
      await t.close();
      await rx.stop();
    }
  });
});

describe(`webhook ledger group commit (${ENGINE})`, () => {
  it('outcomes finishing one per turn of the event loop during a burst share a few commits, each row written', async () => {
    const t = await startTestApp({ env: FAST });
    try {
      const repo = t.app.get(WebhooksRepository);
      const commits = jest.spyOn(t.app.get(DatabaseService), 'transaction');
      const now = new Date().toISOString();
      const written: Array<Promise<void>> = [];
      // 40 outcomes, one per turn (as responses arrive during a burst), within a few milliseconds: a
      // handful of commits (a flush at once, then at most one per OUTCOME_FLUSH_MS), not 40.
      for (let i = 0; i < 40; i++) {
        written.push(
          repo.recordOutcome(
            {
              deliveryId: `msg_group_${i}`,
              webhookId: 'wh_group',
              attempt: 1,
              ok: true,
              statusCode: 204,
              error: null,
              durationMs: 1,
              createdAt: now,
            },
            {
              status: 'delivered',
              attempts: 1,
              nextAttemptAt: null,
              lastStatusCode: 204,
              lastError: null,
              deliveredAt: now,
              updatedAt: now,
            },
          ),
        );
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(written);
      const rows = await rawQuery(
        t,
        `SELECT delivery_id FROM webhook_attempts WHERE webhook_id = 'wh_group'`,
      );
      expect(rows).toHaveLength(40);
      expect(commits.mock.calls.length).toBeLessThanOrEqual(10); // one per outcome before
      commits.mockRestore();
    } finally {
      await t.close();
    }
  });
});

describe(`webhooks across a kernel restart (${ENGINE})`, () => {
  it('neither loses nor duplicates deliveries: events queued while the receiver was down arrive after a restart', async () => {
    const rx = new Receiver();
    await rx.start();
    const port = rx.port;
    let t = await startTestApp({ env: { ...FAST, HELDAR_WEBHOOK_RETRY_SCHEDULE_S: '0.2,60' } });
    try {
      await t
        .http()
        .post('/api/v1/webhooks')
        .send({ url: rx.url, event_types: ['batch_*'] })
        .expect(201);
      const first = await t.app.get(EventsService).emitExternal({ type: 'batch_a' });
      await waitFor(async () => rx.ofType('batch_a').length === 1, 10_000, 'the first delivery');
      await rx.stop(); // receiver down: the next events fail and wait 60 s for their second retry
      const queued = [];
      for (let i = 0; i < 5; i++)
        queued.push(await t.app.get(EventsService).emitExternal({ type: 'batch_b', payload: { i } }));
      await waitFor(
        async () => {
          const rows = await rawQuery(
            t,
            'SELECT COUNT(*) AS n FROM webhook_attempts WHERE ok = ' +
              (ENGINE === 'postgres' ? 'false' : '0'),
          );
          return Number(rows[0].n) >= 10 ? true : null; // two failed attempts each
        },
        10_000,
        'failed attempts',
      );
      await t.stopServer();

      // The receiver is back; a new kernel on the same store picks the queue up.
      await rx.start(port);
      t = await startTestApp({ store: t.store });
      // Retries are 60 s away: replay is the operator's way to flush them now…
      const hooks = (await t.http().get('/api/v1/webhooks').expect(200)).body;
      const pending = (
        await t.http().get(`/api/v1/webhooks/${hooks[0].id}/deliveries?status=retrying`).expect(200)
      ).body;
      expect(pending.map((d: { event_seq: number }) => d.event_seq).sort()).toEqual(
        queued.map((e) => e.seq).sort(),
      );
      for (const d of pending)
        await t.http().post(`/api/v1/webhooks/${hooks[0].id}/deliveries/${d.id}/replay`).expect(200);
      // …and events committed by the new kernel flow as usual.
      const after = await t.app.get(EventsService).emitExternal({ type: 'batch_c' });
      await waitFor(
        async () => rx.ofType('batch_b').length === 5 && rx.ofType('batch_c').length === 1,
        10_000,
        'all deliveries',
      );
      const seqs = rx.got.map((r) => r.json.seq);
      expect(seqs.filter((s) => s === first.seq)).toHaveLength(1);
      expect(seqs.filter((s) => s === after.seq)).toHaveLength(1);
      for (const e of queued) expect(seqs.filter((s) => s === e.seq)).toHaveLength(1);
    } finally {
      await t.close();
      await rx.stop().catch(() => undefined);
    }
  });
});

describe(`webhook camera scope (${ENGINE})`, () => {
  let t: TestApp;
  const rx = { all: new Receiver(), plain: new Receiver(), sidecar: new Receiver() };

  beforeEach(async () => {
    for (const r of Object.values(rx)) {
      r.got.length = 0;
      await r.start();
    }
    t = await startTestApp({ env: { ...FAST, HELDAR_MODULE_HEALTH_INTERVAL_S: '3600' } });
    for (const id of ['cam_a', 'cam_b']) {
      await t.http().post('/api/v1/cameras').send({ id, name: id }).expect(201);
    }
  });

  afterEach(async () => {
    await t?.close();
    for (const r of Object.values(rx)) await r.stop();
  });

  const emit = (type: string, cameraId: string | null, severity: 'info' | 'warning' | 'critical' = 'info') =>
    t.app.get(EventsService).emitExternal({ type, cameraId, severity });
  const hook = async (id: string) => (await t.http().get(`/api/v1/webhooks/${id}`).expect(200)).body;
  const ledger = async (id: string) =>
    (await t.http().get(`/api/v1/webhooks/${id}/deliveries`).expect(200)).body
      .map((d: { event_seq: number }) => d.event_seq)
      .sort((a: number, b: number) => a - b);

  it("a sidecar and a plain webhook scoped to cam_a receive only cam_a's events, never camera-less ones", async () => {
    const all = (await t.http().post('/api/v1/webhooks').send({ url: rx.all.url }).expect(201)).body;
    const plain = (
      await t
        .http()
        .post('/api/v1/webhooks')
        .send({ url: rx.plain.url, scope_kind: 'cameras', scope_cameras: ['cam_a'] })
        .expect(201)
    ).body;
    expect(plain).toMatchObject({ scope_kind: 'cameras', scope_cameras: ['cam_a'] });
    expect(all).toMatchObject({ scope_kind: 'all', scope_cameras: [] });
    const car = (
      await t
        .http()
        .post('/api/v1/modules')
        .send({ id: 'scoped_car', name: 'Car', base_url: rx.sidecar.origin, camera_ids: ['cam_a'] })
        .expect(201)
    ).body;
    expect(await hook(car.webhook_id)).toMatchObject({
      module_id: 'scoped_car',
      scope_kind: 'cameras',
      scope_cameras: ['cam_a'],
    });

    const seqs: Array<{ seq: number; camera: string | null }> = [];
    const note = (e: { seq: number; cameraId: string | null }) =>
      seqs.push({ seq: e.seq, camera: e.cameraId });
    note(await emit('zone_enter', 'cam_a'));
    note(await emit('zone_enter', 'cam_b'));
    note(await emit('storage_error', null, 'critical')); // camera-less: a system event
    note(await emit('disk_pressure', null, 'warning'));
    await t.http().patch('/api/v1/cameras/cam_b').send({ name: 'B' }).expect(200); // camera_updated on cam_b
    await t.http().patch('/api/v1/cameras/cam_a').send({ name: 'A' }).expect(200); // camera_updated on cam_a
    note(await emit('recorder_error', 'cam_a', 'warning')); // the newest: its delivery means all were judged
    const every = (
      await t
        .http()
        .get(`/api/v1/events?since_seq=${seqs[0].seq - 1}`)
        .expect(200)
    ).body as Array<{
      seq: number;
      camera_id: string | null;
    }>;
    expect(every).toHaveLength(7);
    const onA = every.filter((e) => e.camera_id === 'cam_a').map((e) => e.seq);
    expect(onA).toHaveLength(3);

    await waitFor(async () => rx.all.seqs.length === 7, 10_000, 'every event at the unscoped webhook');
    await waitFor(async () => rx.plain.seqs.length >= 3, 10_000, "cam_a's events at the scoped webhook");
    await waitFor(async () => rx.sidecar.seqs.length >= 3, 10_000, "cam_a's events at the sidecar");
    await new Promise((r) => setTimeout(r, 500)); // anything else in flight would land now
    expect(rx.all.seqs).toEqual(every.map((e) => e.seq));
    expect(rx.plain.seqs).toEqual(onA);
    expect(rx.sidecar.seqs).toEqual(onA);
    expect(
      rx.sidecar.got.filter((r) => r.json.camera_id !== undefined).every((r) => r.json.camera_id === 'cam_a'),
    ).toBe(true);
    // Nothing else was even queued for the scoped subscriptions.
    expect(await ledger(plain.id)).toEqual(onA);
    expect(await ledger(car.webhook_id)).toEqual(onA);
  });

  it("a scope can change: plain webhooks through the API, a sidecar's by its key's scope", async () => {
    const plain = (
      await t
        .http()
        .post('/api/v1/webhooks')
        .send({ url: rx.plain.url, scope_cameras: ['cam_a'] })
        .expect(201)
    ).body;
    expect(plain).toMatchObject({ scope_kind: 'cameras', scope_cameras: ['cam_a'] });
    const car = (
      await t
        .http()
        .post('/api/v1/modules')
        .send({ id: 'car2', name: 'Car', base_url: rx.sidecar.origin, camera_ids: ['cam_a'] })
        .expect(201)
    ).body;
    // A sidecar's webhook follows its key: refused here, done by changing the key's scope.
    const refused = await t
      .http()
      .patch(`/api/v1/webhooks/${car.webhook_id}`)
      .send({ scope_kind: 'all' })
      .expect(400);
    expect(refused.body.code).toBe('MODULE_WEBHOOK_SCOPE');
    await t
      .http()
      .patch(`/api/v1/api-keys/${car.api_key_id}`)
      .send({ scope_cameras: ['cam_b'] })
      .expect(200);
    expect(await hook(car.webhook_id)).toMatchObject({ scope_kind: 'cameras', scope_cameras: ['cam_b'] });
    expect(
      (await t.http().patch(`/api/v1/webhooks/${plain.id}`).send({ scope_kind: 'all' }).expect(200)).body,
    ).toMatchObject({ scope_kind: 'all', scope_cameras: [] });

    const a = await emit('zone_enter', 'cam_a');
    const none = await emit('system_notice', null);
    const b = await emit('zone_enter', 'cam_b');
    await waitFor(async () => rx.plain.seqs.length === 3, 10_000, 'three events at the widened webhook');
    await waitFor(async () => rx.sidecar.seqs.length >= 1, 10_000, "cam_b's event at the sidecar");
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.plain.seqs).toEqual([a.seq, none.seq, b.seq]);
    expect(rx.sidecar.seqs).toEqual([b.seq]);
  });

  it('a delivery queued before the scope narrowed is not sent on retry', async () => {
    await t.close(); // retries 2 s apart: the scope surely changes between the first attempt and the next
    t = await startTestApp({ env: { ...FAST, HELDAR_WEBHOOK_RETRY_SCHEDULE_S: '2,2' } });
    const plain = (
      await t
        .http()
        .post('/api/v1/webhooks')
        .send({ url: rx.plain.url, scope_kind: 'cameras', scope_cameras: ['cam_a', 'cam_b'] })
        .expect(201)
    ).body;
    rx.plain.answer = () => 500;
    const e = await emit('zone_enter', 'cam_a');
    await waitFor(async () => rx.plain.got.length >= 1, 10_000, 'a first, failed attempt');
    await t
      .http()
      .patch(`/api/v1/webhooks/${plain.id}`)
      .send({ scope_cameras: ['cam_b'] })
      .expect(200);
    const tried = rx.plain.got.length;
    rx.plain.answer = () => 200;
    const [d] = await waitFor(
      async () => {
        const rows = (await t.http().get(`/api/v1/webhooks/${plain.id}/deliveries`).expect(200)).body;
        return rows[0]?.status === 'dead' ? rows : null;
      },
      10_000,
      'the delivery given up',
    );
    expect(d).toMatchObject({
      event_seq: e.seq,
      attempts: 2,
      last_error: "outside the subscription's camera scope",
    });
    expect(tried).toBe(1);
    expect(rx.plain.got.length).toBe(1);
  });

  it('validates scopes as API keys do', async () => {
    for (const [body, why] of [
      [{ scope_kind: 'cameras' }, /non-empty scope_cameras/],
      [{ scope_kind: 'cameras', scope_cameras: [] }, /non-empty scope_cameras/],
      [{ scope_kind: 'all', scope_cameras: ['cam_a'] }, /takes no scope_cameras/],
      [{ scope_cameras: [''] }, /empty ids/],
      [{ scope_kind: 'some' }, /scope_kind/],
      [{ scope_cameras: 'cam_a' }, /scope_cameras/],
    ] as const) {
      const res = await t
        .http()
        .post('/api/v1/webhooks')
        .send({ url: rx.all.url, ...body })
        .expect(400);
      expect({ body, error: res.body.error }).toEqual({ body, error: expect.stringMatching(why) });
    }
  });
});
