import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { LEASE_RENEW_MS, LEASE_TTL_MS } from '../src/cluster/camera-leases.logic';
import { pct, round } from './stats';
import { freePort, procCpu, startRtspPublisher } from './support';

/**
 * `cluster` (issue 18): N = 3 built kernels as processes (own ports and data dirs) on one
 * throwaway PostgreSQL.
 *
 * 1. Failover: a few RTSP test cameras (2 s segments) spread over the nodes; each trial kill -9s
 *    the node holding the most cameras and times kill → the first segment of each of its cameras
 *    indexed by another node (the slowest camera is the trial's figure), then restarts it under
 *    the same node id and lets the cluster settle. The "raw" reference is the design's bound:
 *    lease TTL + one round + one segment.
 * 2. Lease bookkeeping: 3 nodes × 64 cameras whose RTSP URL is unreachable (they should record,
 *    so they stay leased and owned), steady for 60 s: the statements the lease, heartbeat and
 *    leader machinery sends per node, counted by pg_stat_statements (loaded in the throwaway
 *    server; each node connects as its own role, so every statement is attributed to the node
 *    that sent it and nothing else is counted), their database time, against a bare `SELECT 1`
 *    loop on one connection to the same server in the same run; and the kernel's CPU per node.
 *
 * Both parts poll the database directly (the bench's own connection, as the admin role, which
 * pg_stat_statements keeps apart from the nodes').
 */

const MAIN = join(__dirname, '..', 'heldar.js'); // the bundle `make run` starts
const PG_TEST = resolve(__dirname, '..', '..', 'scripts', 'pg-test.sh');
const NODES = 3;
/** A loopback port nothing listens on: ffmpeg is refused at once and the camera stays "should record". */
const UNREACHABLE = 'rtsp://127.0.0.1:9';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return process.env[name] && Number.isFinite(v) ? v : fallback;
};
const pad = (i: number) => String(i).padStart(2, '0');

interface NodeSpec {
  id: string;
  dir: string;
  port: number;
  env: NodeJS.ProcessEnv;
}

interface RunningNode extends NodeSpec {
  child: ChildProcess;
  exited: Promise<unknown>;
  base: string;
  log: string;
}

/** Every process this bench started, killed if it dies half-way. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

const gone = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

function nodeSpec(
  root: string,
  id: string,
  port: number,
  databaseUrl: string,
  secret: string,
  extra: Record<string, string> = {},
): NodeSpec {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  return {
    id,
    dir,
    port,
    env: {
      PATH: process.env.PATH,
      HELDAR_DATA_DIR: dir,
      HELDAR_DATABASE_URL: databaseUrl,
      HELDAR_SECRET_KEY: secret,
      HELDAR_NODE_ID: id,
      HELDAR_NODE_URL: `http://127.0.0.1:${port}`,
      HELDAR_API_HOST: '127.0.0.1',
      HELDAR_API_PORT: String(port),
      HELDAR_LOG: 'warn',
      HELDAR_RECORDER_ENABLED: 'true',
      HELDAR_AI_ENABLED: 'false',
      HELDAR_MAX_RECORDINGS_GB: '0',
      HELDAR_MIN_FREE_DISK_GB: '0',
      ...extra,
    },
  };
}

const tail = (file: string) => {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
};

/** Start the node (again: same id, port and data dir) and wait for /readyz 200. */
async function startNode(spec: NodeSpec): Promise<RunningNode & { readyMs: number }> {
  const log = join(spec.dir, 'kernel.log');
  const fd = openSync(log, 'a');
  const t0 = performance.now();
  const child = spawn(process.execPath, [MAIN], {
    cwd: spec.dir,
    env: spec.env,
    stdio: ['ignore', 'ignore', fd],
  });
  closeSync(fd);
  live.add(child);
  const exited = new Promise((r) => child.once('exit', r)).finally(() => live.delete(child));
  const base = `http://127.0.0.1:${spec.port}`;
  for (;;) {
    const ok = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (gone(child))
      throw new Error(
        `node ${spec.id} exited (${child.exitCode ?? child.signalCode}) during boot:\n${tail(log)}`,
      );
    if (performance.now() - t0 > 90_000) throw new Error(`node ${spec.id} was not ready within 90 s`);
    await sleep(50);
  }
  return { ...spec, child, exited, base, log, readyMs: round(performance.now() - t0, 0) };
}

async function kill9(n: RunningNode): Promise<void> {
  if (gone(n.child)) return;
  n.child.kill('SIGKILL');
  await n.exited;
}

async function stopNode(n: RunningNode): Promise<void> {
  if (gone(n.child)) return;
  n.child.kill('SIGTERM');
  const timer = setTimeout(() => n.child.kill('SIGKILL'), 30_000);
  await n.exited;
  clearTimeout(timer);
}

async function createCamera(base: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${base}/api/v1/cameras`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status !== 201) throw new Error(`camera ${String(body.id)}: ${res.status} ${await res.text()}`);
}

async function waitFor<T>(what: string, ms: number, fn: () => Promise<T | null>): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (performance.now() > deadline) throw new Error(`cluster bench: timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return dbUrl(adminUrl, name);
}

function dbUrl(adminUrl: string, db: string, user?: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${db}`;
  if (user) u.username = user;
  return u.toString();
}

/** Unexpired leases: camera → { node, acquired (ms) }. */
async function leases(pg: Client): Promise<Map<string, { node: string; acquiredMs: number }>> {
  const { rows } = await pg.query<{
    camera_id: string;
    node_id: string;
    acquired_at: string;
    expires_at: string;
  }>('SELECT camera_id, node_id, acquired_at, expires_at FROM camera_leases');
  const now = Date.now();
  return new Map(
    rows
      .filter((r) => Date.parse(r.expires_at) > now)
      .map((r) => [r.camera_id, { node: r.node_id, acquiredMs: Date.parse(r.acquired_at) }]),
  );
}

/** Nodes whose heartbeat is under 15 s old and that did not stop. */
async function liveNodes(pg: Client): Promise<string[]> {
  const { rows } = await pg.query<{ id: string; last_seen: string; stopped_at: string | null }>(
    'SELECT id, last_seen, stopped_at FROM nodes',
  );
  const now = Date.now();
  return rows
    .filter((r) => r.stopped_at === null && now - Date.parse(r.last_seen) < 15_000)
    .map((r) => r.id)
    .sort();
}

// ---------------------------------------------------------------------------------------------
// 1. Failover time

export interface FailoverFigures {
  what: string;
  measured_by: string;
  nodes: number;
  cameras: number;
  segment_seconds: number;
  trials: number;
  /** Trials whose cameras were not recording elsewhere within the trial timeout (not in the figures). */
  timed_out: number;
  /** Cameras moved over all trials, and the node_failover gaps recorded for them. */
  cameras_failed_over: number;
  node_failover_gaps: number;
  /** kill -9 → the first segment of the victim's slowest camera indexed by another node. */
  kill_to_first_segment_ms: { p50: number; max: number; min: number; per_trial: number[] };
  /** kill -9 → its slowest camera's lease taken by another node (database clock). */
  kill_to_lease_taken_ms: { p50: number; max: number };
  /** The killed node restarted under the same id (it takes its row over): process start → /readyz. */
  restart_ready_ms_p50: number;
  /** The design's bound: lease TTL + one round + one segment (the raw reference). */
  raw_bound_ms: number;
  ratio_p50: number;
  ratio_max: number;
}

async function benchFailover(adminUrl: string, root: string): Promise<FailoverFigures> {
  const trials = num('BENCH_CLUSTER_TRIALS', 10);
  const nCams = num('BENCH_CLUSTER_RTSP_CAMERAS', 3);
  const segmentS = num('BENCH_CLUSTER_SEGMENT_S', 2);
  const budgetMs = num('BENCH_CLUSTER_FAILOVER_MAX_S', 330) * 1000;
  const trialTimeoutMs = num('BENCH_CLUSTER_TRIAL_TIMEOUT_S', 60) * 1000;
  const settleMs = num('BENCH_CLUSTER_TRIAL_SETTLE_S', 3) * 1000;
  const log = (m: string) => console.log(`cluster failover: ${m}`);
  const url = await createDatabase(adminUrl, 'cl_failover');
  const pg = new Client({ connectionString: url });
  const publishers: ChildProcess[] = [];
  const nodes: RunningNode[] = [];
  const started = performance.now();
  try {
    const cams: Array<{ id: string; url: string }> = [];
    for (let i = 0; i < nCams; i++) {
      const port = await freePort();
      const p = await startRtspPublisher(port, { width: 320, height: 240, fps: 5 });
      live.add(p);
      p.once('exit', () => live.delete(p));
      publishers.push(p);
      cams.push({ id: `clf_${pad(i)}`, url: `rtsp://127.0.0.1:${port}/stream` });
    }
    const secret = randomBytes(32).toString('base64');
    const specs: NodeSpec[] = [];
    for (let i = 1; i <= NODES; i++)
      specs.push(nodeSpec(join(root, 'failover'), `n${i}`, await freePort(), url, secret));
    // One after the other (the first runs the migrations), all up before any camera exists, so
    // the cameras spread over the nodes (fair shares) instead of going to the first one.
    for (const s of specs) nodes.push(await startNode(s));
    await pg.connect();
    for (const c of cams)
      await createCamera(nodes[0].base, {
        id: c.id,
        name: c.id,
        main_stream_url: c.url,
        segment_seconds: segmentS,
      });
    const ids = cams.map((c) => c.id);

    /** Every camera leased and recorded by its holder (a segment of the holder since it took it),
     * every node live. */
    const settled = async (): Promise<Map<string, { node: string; acquiredMs: number }> | null> => {
      if ((await liveNodes(pg)).length !== NODES) return null;
      const l = await leases(pg);
      if (ids.some((id) => !l.has(id))) return null;
      const { rows } = await pg.query<{ camera_id: string; node_id: string; last: string }>(
        'SELECT camera_id, node_id, MAX(created_at) AS last FROM segments WHERE camera_id = ANY($1) GROUP BY camera_id, node_id',
        [ids],
      );
      for (const id of ids) {
        const { node, acquiredMs } = l.get(id)!;
        const own = rows.find((r) => r.camera_id === id && r.node_id === node);
        if (!own || Date.parse(own.last) < acquiredMs) return null;
      }
      return l;
    };
    let owners = await waitFor('every camera recorded by one node', 90_000, settled);
    log(`cameras spread: ${JSON.stringify(Object.fromEntries([...owners].map(([c, o]) => [c, o.node])))}`);

    const perTrial: number[] = [];
    const leaseTaken: number[] = [];
    const restarts: number[] = [];
    const lastKilled = new Map<string, number>();
    let timedOut = 0;
    let moved = 0;
    let gaps = 0;
    for (let t = 0; t < trials; t++) {
      const elapsed = performance.now() - started;
      const expected = (perTrial.length ? Math.max(...perTrial) : 25_000) + 15_000;
      if (elapsed + expected > budgetMs) {
        log(`budget BENCH_CLUSTER_FAILOVER_MAX_S reached after ${t} trial(s)`);
        break;
      }
      // The node holding the most cameras; of equals, the one killed longest ago.
      const held = new Map(nodes.map((n) => [n.id, 0]));
      for (const o of owners.values()) held.set(o.node, (held.get(o.node) ?? 0) + 1);
      const victim = [...nodes].sort(
        (a, b) =>
          held.get(b.id)! - held.get(a.id)! ||
          (lastKilled.get(a.id) ?? -1) - (lastKilled.get(b.id) ?? -1) ||
          (a.id < b.id ? -1 : 1),
      )[0];
      const its = ids.filter((id) => owners.get(id)!.node === victim.id);
      const killedAt = Date.now();
      await kill9(victim);
      lastKilled.set(victim.id, t);
      const killedIso = new Date(killedAt).toISOString();
      const outcome = await waitFor(`trial ${t + 1}`, trialTimeoutMs, async () => {
        const { rows } = await pg.query<{ camera_id: string; first: string }>(
          `SELECT camera_id, MIN(created_at) AS first FROM segments
           WHERE camera_id = ANY($1) AND node_id IS DISTINCT FROM $2 AND created_at > $3 GROUP BY camera_id`,
          [its, victim.id, killedIso],
        );
        if (rows.length < its.length) return null;
        const l = await leases(pg);
        return {
          segment: Math.max(...rows.map((r) => Date.parse(r.first) - killedAt)),
          lease: Math.max(...its.map((id) => (l.get(id)?.acquiredMs ?? NaN) - killedAt)),
        };
      }).catch((err: Error) => {
        log(err.message);
        return null;
      });
      if (outcome) {
        perTrial.push(outcome.segment);
        if (Number.isFinite(outcome.lease)) leaseTaken.push(outcome.lease);
        moved += its.length;
      } else timedOut++;
      log(
        `trial ${t + 1}: killed ${victim.id} (${its.join(', ')}) → ` +
          (outcome
            ? `lease taken ${round(outcome.lease / 1000, 1)} s, first segment indexed elsewhere ${round(outcome.segment / 1000, 1)} s`
            : 'TIMED OUT'),
      );
      const again = await startNode(victim);
      restarts.push(again.readyMs);
      nodes[nodes.indexOf(victim)] = again;
      await sleep(settleMs);
      owners = await waitFor('the cluster to settle after the restart', 90_000, settled);
      // Counted once settled: the taker writes the gap after the first segment's row.
      if (outcome) {
        const { rows } = await pg.query<{ n: string }>(
          `SELECT COUNT(*) AS n FROM recording_gaps WHERE camera_id = ANY($1) AND cause = 'node_failover' AND created_at > $2`,
          [its, killedIso],
        );
        gaps += Number(rows[0].n);
      }
    }
    const bound = LEASE_TTL_MS + LEASE_RENEW_MS + segmentS * 1000;
    const p50 = pct(perTrial, 50);
    const max = Math.max(...perTrial);
    return {
      what: `${NODES} kernel processes on one PostgreSQL, ${nCams} RTSP test cameras (${segmentS} s segments); kill -9 the node holding the most cameras, then restart it under the same node id`,
      measured_by:
        'the bench polls PostgreSQL every 200 ms: the first segments row of each moved camera written by another node (its created_at, the indexing kernel’s clock on this host) and the lease’s acquired_at (database clock), both minus the kill time',
      nodes: NODES,
      cameras: nCams,
      segment_seconds: segmentS,
      trials: perTrial.length,
      timed_out: timedOut,
      cameras_failed_over: moved,
      node_failover_gaps: gaps,
      kill_to_first_segment_ms: {
        p50: round(p50, 0),
        max: round(max, 0),
        min: round(Math.min(...perTrial), 0),
        per_trial: perTrial.map((x) => round(x, 0)),
      },
      kill_to_lease_taken_ms: { p50: round(pct(leaseTaken, 50), 0), max: round(Math.max(...leaseTaken), 0) },
      restart_ready_ms_p50: round(pct(restarts, 50), 0),
      raw_bound_ms: bound,
      ratio_p50: round(p50 / bound, 2),
      ratio_max: round(max / bound, 2),
    };
  } finally {
    for (const n of nodes) await stopNode(n);
    for (const p of publishers) if (!gone(p)) p.kill('SIGTERM');
    await pg.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Lease bookkeeping cost

/** Statements of the lease, heartbeat and leader machinery: those on its three tables. */
const BOOKKEEPING = /\b(camera_leases|nodes|cluster_leader)\b/i;
/** The acquire transaction's first statement (one per acquire: its BEGIN and COMMIT are counted with it). */
const ACQUIRE = /DELETE FROM camera_leases WHERE node_id = \$1 AND NOT/i;
const TX_CONTROL = /^\s*(BEGIN|START TRANSACTION|COMMIT)\b/i;

interface NodeCost {
  leader: boolean;
  cameras_held: number;
  /** Statements/s the lease, heartbeat and leader machinery sent (transaction control included). */
  bookkeeping_qps: number;
  /** Their execution time on the server, ms per second. */
  bookkeeping_db_ms_per_s: number;
  /** Every statement this node sent (recorder retries, health, events … included). */
  all_qps: number;
  all_db_ms_per_s: number;
  kernel_cpu_s_per_min: number;
  /** ffmpeg attempts against the unreachable URLs (reaped children of the kernel). */
  recorder_children_cpu_s_per_min: number;
}

export interface BookkeepingFigures {
  what: string;
  counted_by: string;
  nodes: number;
  cameras: number;
  steady_s: number;
  leases: { live: number; per_node: Record<string, number>; moved_during_window: number };
  per_node: Record<string, NodeCost>;
  /** Means over the nodes. */
  bookkeeping_qps_per_node: number;
  bookkeeping_db_ms_per_s_per_node: number;
  kernel_cpu_s_per_min_per_node: number;
  /** Each bookkeeping statement: calls per second per node (mean over nodes) and mean execution time. */
  statements: Array<{ statement: string; calls_per_s_per_node: number; mean_ms: number }>;
  /** A bare `SELECT 1` loop on one connection to the same server, right after the window. */
  raw_select1: { seconds: number; qps: number; mean_exec_ms: number };
  /** bookkeeping qps per node ÷ SELECT 1 qps: the fraction of one connection's capacity it uses. */
  ratio_qps: number;
  /** bookkeeping database time per node ÷ wall time: the fraction of one backend's time. */
  db_time_fraction: number;
}

/** `SELECT 1` back to back on one connection for `seconds` (after a warm-up and `beforeTimed`). */
async function selectOneLoop(
  url: string,
  seconds: number,
  beforeTimed: () => Promise<unknown>,
): Promise<{ calls: number; seconds: number }> {
  const raw = new Client({ connectionString: url });
  await raw.connect();
  try {
    for (let i = 0; i < 200; i++) await raw.query('SELECT 1');
    await beforeTimed();
    let calls = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await raw.query('SELECT 1');
      calls++;
    }
    return { calls, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await raw.end();
  }
}

interface StatRow {
  rolname: string;
  query: string;
  calls: string;
  total_exec_time: number;
}

async function benchBookkeeping(adminUrl: string, root: string): Promise<BookkeepingFigures> {
  const nCams = num('BENCH_CLUSTER_CAMERAS', 64);
  const steadyS = num('BENCH_CLUSTER_STEADY_S', 60);
  const settleS = num('BENCH_CLUSTER_SETTLE_S', 20);
  const select1S = num('BENCH_CLUSTER_SELECT1_S', 5);
  const log = (m: string) => console.log(`cluster bookkeeping: ${m}`);
  const db = 'cl_bookkeeping';
  const url = await createDatabase(adminUrl, db);
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  const pg = new Client({ connectionString: url });
  const nodes: RunningNode[] = [];
  try {
    try {
      await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await admin.query('SELECT pg_stat_statements_reset()');
    } catch (err) {
      throw new Error(
        `pg_stat_statements is not loaded (the server must start with shared_preload_libraries=pg_stat_statements): ${String(err)}`,
      );
    }
    const secret = randomBytes(32).toString('base64');
    const specs: NodeSpec[] = [];
    for (let i = 1; i <= NODES; i++) {
      // A role per node: pg_stat_statements keys its counters by role, so each statement is the node's.
      const role = `heldar_n${i}`;
      await admin.query(`CREATE ROLE ${role} LOGIN SUPERUSER`);
      specs.push(
        nodeSpec(join(root, 'bookkeeping'), `n${i}`, await freePort(), dbUrl(adminUrl, db, role), secret),
      );
    }
    for (const s of specs) nodes.push(await startNode(s));
    await pg.connect();
    for (let i = 0; i < nCams; i++) {
      const id = `clb_${pad(i)}`;
      await createCamera(nodes[0].base, {
        id,
        name: id,
        main_stream_url: `${UNREACHABLE}/${id}`,
        segment_seconds: 2,
      });
    }
    await waitFor(`${nCams} cameras leased by the ${NODES} nodes`, 90_000, async () => {
      const l = await leases(pg);
      return l.size === nCams && new Set([...l.values()].map((o) => o.node)).size === NODES ? true : null;
    });
    log(`${nCams} cameras leased; settling ${settleS} s (recorder back-off grows meanwhile)`);
    await sleep(settleS * 1000);
    const before = await leases(pg);
    if (before.size !== nCams)
      throw new Error(`only ${before.size}/${nCams} cameras leased after the settle`);

    await admin.query('SELECT pg_stat_statements_reset()');
    const cpu0 = nodes.map((n) => procCpu(n.child.pid!));
    const t0 = performance.now();
    log(`steady ${steadyS} s`);
    await sleep(steadyS * 1000);
    const cpu1 = nodes.map((n) => procCpu(n.child.pid!));
    const seconds = (performance.now() - t0) / 1000;
    const { rows: stats } = await admin.query<StatRow>(
      `SELECT r.rolname, s.query, s.calls, s.total_exec_time FROM pg_stat_statements s
       JOIN pg_roles r ON r.oid = s.userid
       WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = $1) AND r.rolname LIKE 'heldar_n%'`,
      [db],
    );
    const after = await leases(pg);
    const moved = [...before].filter(([c, o]) => after.get(c)?.node !== o.node).length;
    const { rows: leaderRows } = await pg.query<{ node_id: string }>('SELECT node_id FROM cluster_leader');
    const leader = leaderRows[0]?.node_id ?? null;

    // The raw reference: one connection, SELECT 1 back to back.
    const select1 = await selectOneLoop(url, select1S, () =>
      admin.query('SELECT pg_stat_statements_reset()'),
    );
    const { rows: s1 } = await admin.query<{ calls: string; total_exec_time: number }>(
      `SELECT s.calls, s.total_exec_time FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
       WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = $1) AND r.rolname = current_user
         AND s.query IN ('SELECT 1', 'SELECT $1')`,
      [db],
    );
    const select1Qps = select1.calls / select1.seconds;

    const perNode: Record<string, NodeCost> = {};
    const perStatement = new Map<string, { calls: number; ms: number }>();
    nodes.forEach((n, i) => {
      const mine = stats.filter((s) => s.rolname === `heldar_n${i + 1}`);
      const book = mine.filter((s) => BOOKKEEPING.test(s.query));
      const tx = mine.filter((s) => TX_CONTROL.test(s.query));
      const txCalls = tx.reduce((a, s) => a + Number(s.calls), 0);
      const txMean = txCalls > 0 ? tx.reduce((a, s) => a + s.total_exec_time, 0) / txCalls : 0;
      const acquires = book.filter((s) => ACQUIRE.test(s.query)).reduce((a, s) => a + Number(s.calls), 0);
      const calls = book.reduce((a, s) => a + Number(s.calls), 0) + 2 * acquires;
      const ms = book.reduce((a, s) => a + s.total_exec_time, 0) + 2 * acquires * txMean;
      for (const s of book) {
        const key = s.query.replace(/\s+/g, ' ').trim().slice(0, 110);
        const e = perStatement.get(key) ?? { calls: 0, ms: 0 };
        perStatement.set(key, { calls: e.calls + Number(s.calls), ms: e.ms + s.total_exec_time });
      }
      const e = perStatement.get('BEGIN + COMMIT of the acquire transaction') ?? { calls: 0, ms: 0 };
      perStatement.set('BEGIN + COMMIT of the acquire transaction', {
        calls: e.calls + 2 * acquires,
        ms: e.ms + 2 * acquires * txMean,
      });
      perNode[n.id] = {
        leader: leader === n.id,
        cameras_held: [...after.values()].filter((o) => o.node === n.id).length,
        bookkeeping_qps: round(calls / seconds, 2),
        bookkeeping_db_ms_per_s: round(ms / seconds, 3),
        all_qps: round(mine.reduce((a, s) => a + Number(s.calls), 0) / seconds, 2),
        all_db_ms_per_s: round(mine.reduce((a, s) => a + s.total_exec_time, 0) / seconds, 3),
        kernel_cpu_s_per_min: round(((cpu1[i].own - cpu0[i].own) / seconds) * 60, 2),
        recorder_children_cpu_s_per_min: round(
          ((cpu1[i].reapedChildren - cpu0[i].reapedChildren) / seconds) * 60,
          2,
        ),
      };
    });
    const mean = (f: (c: NodeCost) => number) =>
      Object.values(perNode).reduce((a, c) => a + f(c), 0) / Object.keys(perNode).length;
    const qps = mean((c) => c.bookkeeping_qps);
    const dbMs = mean((c) => c.bookkeeping_db_ms_per_s);
    const perNodeCount: Record<string, number> = {};
    for (const o of after.values()) perNodeCount[o.node] = (perNodeCount[o.node] ?? 0) + 1;
    const s1Calls = Number(s1[0]?.calls ?? 0);
    return {
      what: `${NODES} kernel processes on one PostgreSQL, ${nCams} cameras that should record (an unreachable RTSP URL on loopback), steady ${steadyS} s`,
      counted_by:
        'pg_stat_statements in the throwaway server, each node connected as its own role: statements on camera_leases, nodes and cluster_leader, plus the BEGIN and COMMIT of each acquire transaction; execution time is the server’s total_exec_time',
      nodes: NODES,
      cameras: nCams,
      steady_s: round(seconds, 1),
      leases: { live: after.size, per_node: perNodeCount, moved_during_window: moved },
      per_node: perNode,
      bookkeeping_qps_per_node: round(qps, 2),
      bookkeeping_db_ms_per_s_per_node: round(dbMs, 3),
      kernel_cpu_s_per_min_per_node: round(
        mean((c) => c.kernel_cpu_s_per_min),
        2,
      ),
      statements: [...perStatement]
        .map(([statement, e]) => ({
          statement,
          calls_per_s_per_node: round(e.calls / seconds / NODES, 3),
          mean_ms: round(e.calls > 0 ? e.ms / e.calls : 0, 3),
        }))
        .sort((a, b) => b.calls_per_s_per_node - a.calls_per_s_per_node),
      raw_select1: {
        seconds: round(select1.seconds, 1),
        qps: round(select1Qps, 0),
        mean_exec_ms: round(s1Calls > 0 ? s1[0].total_exec_time / s1Calls : NaN, 4),
      },
      ratio_qps: round(qps / select1Qps, 5),
      db_time_fraction: round(dbMs / 1000, 5),
    };
  } finally {
    for (const n of nodes) await stopNode(n);
    await pg.end().catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------

export interface ClusterBenchResult {
  failover: FailoverFigures | string;
  bookkeeping: BookkeepingFigures | string;
}

/**
 * BENCH_CLUSTER_PARTS ("failover,bookkeeping"); failover: BENCH_CLUSTER_TRIALS (10),
 * BENCH_CLUSTER_RTSP_CAMERAS (3), BENCH_CLUSTER_SEGMENT_S (2), BENCH_CLUSTER_FAILOVER_MAX_S (330:
 * no trial starts that could end past it), BENCH_CLUSTER_TRIAL_TIMEOUT_S (60),
 * BENCH_CLUSTER_TRIAL_SETTLE_S (3); bookkeeping: BENCH_CLUSTER_CAMERAS (64), BENCH_CLUSTER_STEADY_S
 * (60), BENCH_CLUSTER_SETTLE_S (20), BENCH_CLUSTER_SELECT1_S (5).
 */
export async function benchCluster(): Promise<ClusterBenchResult> {
  const parts = (process.env.BENCH_CLUSTER_PARTS ?? 'failover,bookkeeping').split(',').map((s) => s.trim());
  const root = mkdtempSync(join(tmpdir(), 'heldar-bench-cluster-'));
  let cluster: string | undefined;
  try {
    const [url, dir] = execFileSync('bash', [PG_TEST, 'start'], {
      encoding: 'utf8',
      env: { ...process.env, HELDAR_PG_TEST_OPTS: '-c shared_preload_libraries=pg_stat_statements' },
    })
      .trim()
      .split(' ');
    cluster = dir;
    const failover = parts.includes('failover')
      ? await benchFailover(url, root)
      : 'skipped (BENCH_CLUSTER_PARTS)';
    console.log('cluster failover:', JSON.stringify(failover, null, 2));
    const bookkeeping = parts.includes('bookkeeping')
      ? await benchBookkeeping(url, root)
      : 'skipped (BENCH_CLUSTER_PARTS)';
    return { failover, bookkeeping };
  } finally {
    if (cluster) execFileSync('bash', [PG_TEST, 'stop', cluster]);
    rmSync(root, { recursive: true, force: true });
  }
}
