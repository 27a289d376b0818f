import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseService } from '../../src/database/database.service';
import type { KernelEvent } from '../../src/events/event-bus';
import { EventsService } from '../../src/events/events.service';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.service';
import { rawQuery, startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/**
 * On PostgreSQL a seq is drawn at insert, not at commit: a transaction holding seq N can commit
 * after N+1. Every reader of "events after seq" (the webhook dispatcher, `GET ?since_seq=`, an SSE
 * resume) must still deliver both, once each, in seq order. SQLite has one writer: there the first
 * transaction commits before the second can begin, and the same assertions hold trivially.
 */

/** An SSE client: the ids it was sent, in order. */
class Sse {
  readonly ids: number[] = [];
  private res!: IncomingMessage;
  private buf = '';

  static open(t: TestApp, path: string, lastEventId?: number): Promise<Sse> {
    const c = new Sse();
    const headers: Record<string, string> =
      lastEventId === undefined ? {} : { 'Last-Event-ID': String(lastEventId) };
    return new Promise((resolve, reject) => {
      get(`${t.baseUrl}${path}`, { headers }, (res) => {
        c.res = res;
        res.setEncoding('utf8');
        res.on('error', () => undefined);
        res.on('data', (chunk: string) => {
          c.buf += chunk;
          for (let end = c.buf.indexOf('\n\n'); end !== -1; end = c.buf.indexOf('\n\n')) {
            const id = /^id: (\d+)$/m.exec(c.buf.slice(0, end));
            if (id) c.ids.push(Number(id[1]));
            c.buf = c.buf.slice(end + 2);
          }
        });
        resolve(c);
      }).on('error', reject);
    });
  }

  close(): void {
    this.res.destroy();
  }
}

describe(`events after a seq, with transactions committing out of seq order (${ENGINE})`, () => {
  let t: TestApp;
  let server: Server;
  const received: number[] = [];
  const streams: Sse[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (body) received.push((JSON.parse(body) as { seq: number }).seq);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t = await startTestApp();
  });

  afterEach(() => {
    for (const s of streams.splice(0)) s.close();
  });

  afterAll(async () => {
    await t?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const sse = async (lastEventId?: number) => {
    const s = await Sse.open(t, '/api/v1/events/stream?event_type=x_order', lastEventId);
    streams.push(s);
    return s;
  };
  /** Every x_order seq after `since` that `GET ?since_seq=` returns now, following the cursor. */
  const poll = async (since: number) => {
    const res = await t.http().get(`/api/v1/events?event_type=x_order&since_seq=${since}`).expect(200);
    return (res.body as Array<{ seq: number }>).map((e) => e.seq);
  };
  /** Give a reader the chance to send what it (wrongly) would: never a speed assertion. */
  const settle = () => new Promise<void>((r) => setTimeout(r, 400));

  /**
   * Emit `first` in a transaction held open, then emit and commit `second` (a higher seq), run
   * `during` while `first` is still open, then end that transaction (commit, or roll back).
   */
  async function outOfOrder(end: 'commit' | 'rollback', during: () => Promise<void>) {
    const events = t.app.get(EventsService);
    const db = t.app.get(DatabaseService);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let first!: KernelEvent;
    let inserted!: () => void;
    const insertedP = new Promise<void>((r) => (inserted = r));
    const held = db
      .transaction(async () => {
        first = await events.emitExternal({ type: 'x_order', payload: { n: 'first' } });
        inserted();
        await gate;
        if (end === 'rollback') throw new Error('rolled back on purpose');
      })
      .catch((err: unknown) => {
        if (end !== 'rollback') throw err;
      });
    if (ENGINE === 'sqlite') {
      // One writer: the held transaction must end before the second can be written.
      release();
      await held;
    } else await insertedP;
    const second = await events.emitExternal({ type: 'x_order', payload: { n: 'second' } });
    // (SQLite reuses a rolled-back rowid: there the second may take the first's seq.)
    if (end === 'commit' || ENGINE === 'postgres') expect(second.seq).toBeGreaterThan(first.seq);
    await during();
    release();
    await held;
    return { first, second };
  }

  it('the webhook dispatcher delivers both events exactly once (its cursor never passes the open one)', async () => {
    const before = await t.app.get(EventsService).emitExternal({ type: 'x_fence' });
    await t
      .http()
      .post('/api/v1/webhooks')
      .send({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
        event_types: ['x_order'],
      })
      .expect(201);
    const { first, second } = await outOfOrder('commit', async () => {
      await t.app.get(WebhookDispatcher).schedule(); // read now, while `first` is open
      await settle();
    });
    await waitFor(async () => received.length >= 2, 10_000, 'both deliveries');
    await settle();
    expect([...received].sort((a, b) => a - b)).toEqual([first.seq, second.seq]);
    const rows = await rawQuery(
      t,
      `SELECT event_seq FROM webhook_deliveries WHERE event_seq > ${before.seq} ORDER BY event_seq`,
    );
    expect(rows.map((r) => Number(r.event_seq))).toEqual([first.seq, second.seq]);
    await t.http().delete(`/api/v1/webhooks/${(await t.http().get('/api/v1/webhooks')).body[0].id}`);
  });

  it('GET ?since_seq= never returns the later event before the open one: a client following its cursor gets both', async () => {
    const fence = await t.app.get(EventsService).emitExternal({ type: 'x_order' });
    let cursor = fence.seq;
    const seen: number[] = [];
    const { first, second } = await outOfOrder('commit', async () => {
      const page = await poll(cursor);
      seen.push(...page);
      cursor = page.at(-1) ?? cursor;
    });
    await waitFor(
      async () => {
        const page = await poll(cursor);
        seen.push(...page);
        cursor = page.at(-1) ?? cursor;
        return seen.length >= 2;
      },
      10_000,
      'both events through since_seq',
    );
    expect(seen).toEqual([first.seq, second.seq]);
  });

  it('an SSE stream sends both in seq order, and one that resumes with the last id it got misses neither', async () => {
    const fence = await t.app.get(EventsService).emitExternal({ type: 'x_order' });
    let live!: Sse;
    let cut!: Sse;
    const { first, second } = await outOfOrder('commit', async () => {
      live = await sse(fence.seq); // stays open across the commit
      cut = await sse(fence.seq); // disconnects while `first` is open, then resumes
      await settle();
      cut.close();
    });
    const resumed = await sse(cut.ids.at(-1) ?? fence.seq);
    await waitFor(
      async () => live.ids.length >= 2 && cut.ids.length + resumed.ids.length >= 2,
      10_000,
      'SSE',
    );
    await settle();
    expect(live.ids).toEqual([first.seq, second.seq]);
    expect([...cut.ids, ...resumed.ids]).toEqual([first.seq, second.seq]);
  });

  it('a rolled-back event holds nobody back: the later one is delivered once it is gone', async () => {
    const fence = await t.app.get(EventsService).emitExternal({ type: 'x_order' });
    const s = await sse(fence.seq);
    const { second } = await outOfOrder('rollback', () => settle());
    await waitFor(async () => s.ids.length >= 1, 10_000, 'the later event after the rollback');
    expect(await poll(fence.seq)).toEqual([second.seq]);
    await settle();
    expect(s.ids).toEqual([second.seq]);
  });
});
