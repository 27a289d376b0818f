import { get, type ClientRequest } from 'node:http';
import { SYSTEM_PRINCIPAL } from '../../src/auth/principal';
import { CamerasService } from '../../src/cameras/cameras.service';
import { EventBus, type KernelEvent } from '../../src/events/event-bus';
import { EventRelay, LISTENER_NAME } from '../../src/events/event-relay';
import { EventsService } from '../../src/events/events.service';
import { rawQuery, startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE, sharedTestStore } from '../support/test-db';

/** An SSE client collecting the seqs and types of its frames. */
class Sse {
  readonly frames: Array<{ seq: number; type: string }> = [];
  status: number | undefined;
  private buf = '';
  private req!: ClientRequest;

  /** Only frames of types starting with `prefix` are kept (here: a stream filter `x_clu*` reads as `xclu%`). */
  constructor(private readonly prefix: string) {}

  static open(t: TestApp, prefix: string, headers: Record<string, string> = {}): Promise<Sse> {
    const c = new Sse(prefix);
    const path = '/api/v1/events/stream';
    return new Promise((resolve, reject) => {
      c.req = get(`${t.baseUrl}${path}`, { headers }, (res) => {
        c.status = res.statusCode;
        res.setEncoding('utf8');
        res.on('error', () => undefined);
        res.on('data', (chunk: string) => {
          c.buf += chunk;
          for (let end = c.buf.indexOf('\n\n'); end !== -1; end = c.buf.indexOf('\n\n')) {
            const block = c.buf.slice(0, end);
            c.buf = c.buf.slice(end + 2);
            const id = /^id: (\d+)$/m.exec(block);
            const type = /^event: (.+)$/m.exec(block);
            if (id && type && type[1].startsWith(c.prefix))
              c.frames.push({ seq: Number(id[1]), type: type[1] });
          }
        });
        // Headers out: the stream is open (its cursor is read before they are sent).
        resolve(c);
      });
      c.req.on('error', reject);
    });
  }

  get seqs(): number[] {
    return this.frames.map((f) => f.seq);
  }

  close(): void {
    this.req.destroy();
  }
}

/** Records what a bus subscriber saw: `<type>` or `<type>/remote`. */
function watch(bus: EventBus, prefix: string, opts?: { remote: boolean }): { seen: string[]; off(): void } {
  const seen: string[] = [];
  const off = bus.onAny(
    (e: KernelEvent) => {
      if (e.eventType.startsWith(prefix)) seen.push(`${e.eventType}${e.remote ? '/remote' : ''}`);
    },
    'test',
    opts,
  );
  return { seen, off };
}

if (ENGINE === 'postgres') {
  describe('events across the nodes of a cluster: two kernels on one PostgreSQL', () => {
    let a: TestApp;
    let b: TestApp;
    const streams: Sse[] = [];
    const emitOn = (t: TestApp, type: string, payload: Record<string, unknown> = {}) =>
      t.app.get(EventsService).emitExternal({ type, payload });

    beforeAll(async () => {
      a = await startTestApp({ env: { HELDAR_NODE_ID: 'node-a' } });
      b = await startTestApp({ store: sharedTestStore(a.store, { HELDAR_NODE_ID: 'node-b' }) });
    });

    afterEach(() => {
      for (const s of streams.splice(0)) s.close();
    });

    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it("an SSE client on B receives A's events live, then resumes with Last-Event-ID: no gap, no duplicate", async () => {
      const live = await Sse.open(b, 'x_clu_sse');
      streams.push(live);
      expect(live.status).toBe(200);
      // Both nodes write at once (A's in bursts, concurrently): every seq once, in order.
      const first = await Promise.all([
        ...Array.from({ length: 12 }, (_, i) => emitOn(a, 'x_clu_sse_a', { i })),
        ...Array.from({ length: 4 }, (_, i) => emitOn(b, 'x_clu_sse_b', { i })),
      ]);
      const expected = first.map((e) => e.seq).sort((x, y) => x - y);
      await waitFor(async () => live.seqs.length >= expected.length, 5000, 'the live frames on B');
      expect(live.seqs).toEqual(expected);
      const fromA = live.frames.filter((f) => f.type === 'x_clu_sse_a').length;
      expect(fromA).toBe(12);
      live.close();

      // Missed while away: A's and B's; the resumed stream sends exactly those, then A's live ones.
      const missed = [];
      for (let i = 0; i < 5; i++) missed.push((await emitOn(i % 2 ? b : a, 'x_clu_sse_missed', { i })).seq);
      const resumed = await Sse.open(b, 'x_clu_sse', {
        'Last-Event-ID': String(expected[expected.length - 1]),
      });
      streams.push(resumed);
      await waitFor(async () => resumed.seqs.length >= missed.length, 5000, 'the replayed frames on B');
      const after = (await emitOn(a, 'x_clu_sse_after')).seq;
      await waitFor(async () => resumed.seqs.includes(after), 5000, "A's live event on the resumed stream");
      expect(resumed.seqs).toEqual([...missed, after]);
    });

    it("B's camera policy cache sees a camera created, then changed, through A within about a second", async () => {
      const onA = a.app.get(CamerasService);
      const onB = b.app.get(CamerasService);
      await onB.listPolicies(); // B's cache is loaded (and would stay so)
      const cam = await onA.create(SYSTEM_PRINCIPAL, {
        name: 'Cluster gate',
        main_stream_url: 'rtsp://10.0.0.7/main',
        record_mode: 'continuous',
      });
      const seen = await waitFor(() => onB.getPolicy(cam.id), 1500, "A's new camera in B's policies");
      expect(seen.recordMode).toBe('continuous');
      await onA.update(SYSTEM_PRINCIPAL, cam.id, { record_mode: 'scheduled_event' });
      const changed = await waitFor(
        async () => (await onB.getPolicy(cam.id))?.recordMode === 'scheduled_event',
        1500,
        "A's change in B's policies",
      );
      expect(changed).toBe(true);
    });

    it("a subscriber sees the other node's events only when it opted in ({ remote: true }), each once", async () => {
      const plainB = watch(b.app.get(EventBus), 'x_clu_bus');
      const optInB = watch(b.app.get(EventBus), 'x_clu_bus', { remote: true });
      const optInA = watch(a.app.get(EventBus), 'x_clu_bus', { remote: true });
      try {
        await emitOn(a, 'x_clu_bus_from_a');
        await emitOn(b, 'x_clu_bus_from_b');
        await waitFor(
          async () => optInB.seen.length >= 2 && optInA.seen.length >= 2,
          5000,
          'both events on both buses',
        );
        await new Promise((r) => setTimeout(r, 300)); // a duplicate would have come by now
        expect(optInB.seen.sort()).toEqual(['x_clu_bus_from_a/remote', 'x_clu_bus_from_b']);
        expect(optInA.seen.sort()).toEqual(['x_clu_bus_from_a', 'x_clu_bus_from_b/remote']);
        expect(plainB.seen).toEqual(['x_clu_bus_from_b']);
      } finally {
        plainB.off();
        optInB.off();
        optInA.off();
      }
    });

    it('a lost notification connection is reopened and what was committed meanwhile is relayed once', async () => {
      const relay = b.app.get(EventRelay);
      const optInB = watch(b.app.get(EventBus), 'x_clu_gap', { remote: true });
      try {
        expect(relay.listening).toBe(true);
        const killed = await rawQuery(
          a,
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
            WHERE application_name = '${LISTENER_NAME} node-b' AND datname = current_database()`,
        );
        expect(killed).toEqual([{ ok: true }]);
        await waitFor(async () => !relay.listening, 5000, "B's listener to notice");
        const during = await emitOn(a, 'x_clu_gap_during');
        await waitFor(async () => relay.listening, 10_000, "B's listener to reconnect");
        await waitFor(async () => optInB.seen.length >= 1, 5000, 'the event committed while away');
        const next = await emitOn(a, 'x_clu_gap_next');
        await waitFor(async () => optInB.seen.length >= 2, 5000, 'the next event');
        await new Promise((r) => setTimeout(r, 300));
        expect(optInB.seen).toEqual(['x_clu_gap_during/remote', 'x_clu_gap_next/remote']);
        expect(next.seq).toBeGreaterThan(during.seq);
      } finally {
        optInB.off();
      }
    });
  });
} else {
  describe('events on SQLite: one node, no relay', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp();
    });

    afterAll(async () => {
      await t?.close();
    });

    it('opens no notification connection; every event on the bus is local, seen by every subscriber', async () => {
      const relay = t.app.get(EventRelay);
      expect(relay.enabled).toBe(false);
      expect(relay.listening).toBe(false);
      const plain = watch(t.app.get(EventBus), 'x_one');
      const optIn = watch(t.app.get(EventBus), 'x_one', { remote: true });
      try {
        await t.app.get(EventsService).emitExternal({ type: 'x_one_node' });
        expect(plain.seen).toEqual(['x_one_node']);
        expect(optIn.seen).toEqual(['x_one_node']);
      } finally {
        plain.off();
        optIn.off();
      }
    });
  });
}
