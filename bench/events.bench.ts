import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/heldar-config';
import { EventsService } from '../src/events/events.service';

const EVENTS = 1000;
const SUBSCRIPTIONS = 5;
/** Longer than both ends keep an idle keep-alive connection. */
const QUIET_MS = 6_000;

/** One burst of 1,000 events to the 5 subscriptions. */
export interface BurstFigure {
  deliveries: number;
  commit_to_receipt_p50_ms: number;
  commit_to_receipt_p95_ms: number;
  deliveries_per_s: number;
  /** From the first emit: when the last event committed, and when the first delivery arrived. */
  emitted_ms: number;
  first_receipt_ms: number;
}

export interface EventsBenchResult {
  events: number;
  subscriptions: number;
  /** The first burst of a freshly booted kernel (the same as `burst`): its delivery path not yet
   * compiled by the optimising compiler, its connections opened as it goes. */
  burst_after_boot: BurstFigure;
  /** All 1,000 events emitted back to back from one loop that never yields: every event commits
   * before the dispatcher gets a turn, so latency is mostly queueing behind the whole burst. A
   * kernel that has delivered before (compiled), after a quiet spell long enough for every
   * keep-alive connection to close, so its connections are opened anew. */
  burst: BurstFigure & {
    /** The same 5,000 bodies POSTed by a bare keep-alive client at the dispatcher's concurrency. */
    raw_deliveries_per_s: number;
    /** The bare client's own p95, all 5,000 ready at its start (to each POST's answer): the least
     * p95 this receiver on this machine allows the burst, whoever sends it. */
    raw_p95_ms: number;
    /** In flight at once, kernel and bare client alike (HELDAR_WEBHOOK_CONCURRENCY's default, capped
     * by 5 × HELDAR_WEBHOOK_SUBSCRIPTION_CONCURRENCY). */
    concurrency: number;
    ratio: number;
  };
  /** The same burst with each event emitted in its own turn of the event loop, as events arriving
   * from requests and workers are (the dispatcher runs between them). */
  burst_own_turns: BurstFigure;
  /** 200 events/s (a busy site): latency of one delivery. */
  paced_200_per_s: { deliveries: number; commit_to_receipt_p50_ms: number; commit_to_receipt_p95_ms: number };
  raw_post_p50_ms: number;
  ratio_paced_p50: number;
  /** 1,000 events to 50 SSE clients, against a bare Node server writing the same frames. */
  sse_50_clients: { events_per_s_delivered: number; raw_events_per_s_delivered: number; ratio: number };
}

/** Open `n` SSE readers on `url`; resolves when each has seen `expect` `id:` lines. */
async function sseFanout(url: string, n: number, expect: number, emit: () => Promise<void>): Promise<number> {
  const { get } = await import('node:http');
  let done = 0;
  let finish!: () => void;
  const all = new Promise<void>((r) => (finish = r));
  const reqs: Array<ReturnType<typeof get>> = [];
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((ready) => {
          const req = get(url, (res) => {
            let seen = 0;
            let tail = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              if (tail === '' && chunk.startsWith(':')) ready();
              const text = tail + chunk;
              const lines = text.split('\n');
              tail = lines.pop() ?? '';
              for (const l of lines) if (l.startsWith('id:')) seen++;
              if (seen === expect && ++done === n) finish();
            });
          });
          reqs.push(req);
          setTimeout(ready, 2000);
        }),
    ),
  );
  const started = performance.now();
  await emit();
  await Promise.race([all, new Promise((r) => setTimeout(r, 60_000))]);
  const s = (performance.now() - started) / 1000;
  for (const r of reqs) r.destroy();
  return Math.round((n * expect) / s);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
};

/** A bare HTTP POST of `body` to `url` (the raw figure: what one delivery costs without the kernel). */
function rawPost(url: string, body: string, agent?: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable with the receiver process's. */
const wallMs = () => performance.timeOrigin + performance.now();

/** The receiver process: its base URL, and a wait for `n` deliveries (`${url}:${seq}` → receipt). */
async function startReceiver(): Promise<{
  child: ChildProcess;
  base: string;
  collect: (n: number, timeoutMs: number) => { done: Promise<Map<string, number>> };
}> {
  const child = fork(join(__dirname, 'webhook-receiver.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('error', reject);
  });
  const collect = (n: number, timeoutMs: number) => {
    child.send({ expect: n });
    const done = new Promise<Map<string, number>>((resolve) => {
      const timer = setTimeout(() => child.send({ dump: true }), timeoutMs);
      child.once('message', (m: { received: Array<[string, number]> }) => {
        clearTimeout(timer);
        resolve(new Map(m.received));
      });
    });
    return { done };
  };
  return { child, base: `http://127.0.0.1:${port}`, collect };
}

/**
 * 1,000 events, 5 webhook subscriptions on a loopback receiver: time from each event's commit to
 * its receipt (p50/p95) next to a bare HTTP POST of the same body to the same receiver.
 *
 * The receiver runs in its own process (bench/webhook-receiver.ts): in the kernel's process it
 * took its share of the one event loop the dispatcher runs on (parsing 5,000 requests while the
 * kernel sends them), so the figure measured the receiver as much as the kernel, and a real
 * receiver is never inside the kernel. The bare client's figure uses the same receiver process.
 */
export async function benchEvents(): Promise<EventsBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-ev-'));
  const rx = await startReceiver();
  const rxBase = rx.base;
  const config = loadConfig({
    HELDAR_DATA_DIR: dir,
    HELDAR_DATABASE_URL: `sqlite://${join(dir, 'heldar.db')}`,
    HELDAR_LOG: 'warn',
    HELDAR_RECORDER_ENABLED: 'false',
    HELDAR_MIN_FREE_DISK_GB: '0',
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  try {
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      const res = await fetch(`${base}/api/v1/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${rxBase}/s${i}`, event_types: ['bench_*'] }),
      });
      if (res.status !== 201) throw new Error(`webhook: ${res.status} ${await res.text()}`);
    }
    const events = app.get(EventsService);
    // paceMs < 0: back to back, but each event in its own turn of the event loop (as events arrive
    // from requests and workers); 0: one loop that never yields (every event commits before the
    // dispatcher gets a turn); > 0: paced.
    const phase = async (tag: string, paceMs: number): Promise<BurstFigure> => {
      const arrivals = rx.collect(EVENTS * SUBSCRIPTIONS, 120_000);
      const committed = new Map<number, number>();
      const started = wallMs();
      for (let i = 0; i < EVENTS; i++) {
        const e = await events.emitExternal({ type: `bench_${tag}`, payload: { i, pad: 'x'.repeat(200) } });
        committed.set(e.seq, wallMs());
        if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
        else if (paceMs < 0) await new Promise((r) => setImmediate(r));
      }
      const emittedAt = wallMs();
      const received = await arrivals.done;
      const elapsedS = (Math.max(...received.values()) - started) / 1000;
      const latencies: number[] = [];
      for (const [k, at] of received) {
        const c = committed.get(Number(k.split(':')[1]));
        if (c !== undefined) latencies.push(at - c);
      }
      return {
        deliveries: latencies.length,
        commit_to_receipt_p50_ms: pct(latencies, 50),
        commit_to_receipt_p95_ms: pct(latencies, 95),
        deliveries_per_s: Math.round(latencies.length / elapsedS),
        /** From the first emit: the last commit, and the first delivery received. */
        emitted_ms: Math.round(emittedAt - started),
        first_receipt_ms: Math.round(Math.min(...received.values()) - started),
      };
    };
    const afterBoot = await phase('boot', 0);
    // Quiet until every connection of that burst has closed (undici keeps an idle one 4 s, the
    // receiver 5 s): the measured burst opens its own, as one after a quiet spell at a site does.
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const burstKernel = await phase('burst', 0);
    // Raw: 5,000 bare POSTs of a delivery-sized body, as many at a time as the dispatcher sends
    // them, over keep-alive sockets, to the same receiver.
    const concurrency = Math.min(
      config.webhookConcurrency,
      SUBSCRIPTIONS * config.webhookSubscriptionConcurrency,
    );
    const rawAgent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const rawBody = JSON.stringify({ id: 'x', seq: 0, type: 'bench_raw', payload: { pad: 'x'.repeat(200) } });
    let next = 0;
    const rawDone: number[] = [];
    const rawStarted = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < EVENTS * SUBSCRIPTIONS) {
          next++;
          await rawPost(`${rxBase}/raw`, rawBody, rawAgent);
          rawDone.push(performance.now() - rawStarted);
        }
      }),
    );
    const rawRate = Math.round((EVENTS * SUBSCRIPTIONS) / ((performance.now() - rawStarted) / 1000));
    rawAgent.destroy();
    const burst = {
      ...burstKernel,
      raw_deliveries_per_s: rawRate,
      raw_p95_ms: Math.round(pct(rawDone, 95)),
      concurrency,
      ratio: Math.round((burstKernel.deliveries_per_s / rawRate) * 1000) / 1000,
    };
    const burstTurns = await phase('turns', -1);
    const {
      deliveries_per_s: _rate,
      emitted_ms: _e,
      first_receipt_ms: _f,
      ...paced
    } = await phase('paced', 5);
    const body = JSON.stringify({ id: 'x', seq: 0, type: 'bench_tick', payload: { pad: 'x'.repeat(200) } });
    const raw: number[] = [];
    for (let i = 0; i < 500; i++) {
      const s = performance.now();
      await rawPost(`${rxBase}/raw`, body);
      raw.push(performance.now() - s);
    }
    const rawP50 = pct(raw, 50);

    // SSE fan-out: 50 readers of the kernel's stream vs 50 readers of a bare Node SSE server.
    const sseKernel = await sseFanout(
      `${base}/api/v1/events/stream?event_type=sse_*`,
      50,
      EVENTS,
      async () => {
        for (let i = 0; i < EVENTS; i++) await events.emitExternal({ type: 'sse_tick', payload: { i } });
      },
    );
    const clients = new Set<import('node:http').ServerResponse>();
    const bare = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
      clients.add(res);
      res.on('close', () => clients.delete(res));
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
    const frame = (i: number) =>
      `id: ${i}\nevent: sse_tick\ndata: ${JSON.stringify({ seq: i, event_type: 'sse_tick', payload: { i } })}\n\n`;
    const sseRaw = await sseFanout(
      `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`,
      50,
      EVENTS,
      async () => {
        for (let i = 0; i < EVENTS; i++) {
          for (const c of clients) c.write(frame(i + 1));
          await new Promise((r) => setImmediate(r));
        }
      },
    );
    bare.closeAllConnections();
    await new Promise<void>((r) => bare.close(() => r()));
    return {
      events: EVENTS,
      subscriptions: SUBSCRIPTIONS,
      burst_after_boot: afterBoot,
      burst,
      burst_own_turns: burstTurns,
      paced_200_per_s: paced,
      raw_post_p50_ms: rawP50,
      ratio_paced_p50: Math.round((paced.commit_to_receipt_p50_ms / rawP50) * 10) / 10,
      sse_50_clients: {
        events_per_s_delivered: sseKernel,
        raw_events_per_s_delivered: sseRaw,
        ratio: Math.round((sseKernel / sseRaw) * 1000) / 1000,
      },
    };
  } finally {
    await app.close();
    rx.child.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}
