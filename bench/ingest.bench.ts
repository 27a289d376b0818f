import BetterSqlite3 from 'better-sqlite3';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support';

const CLIENTS = 16;
const PER_BATCH = 20;
const SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 20);
const MAIN = join(__dirname, '..', 'heldar.js'); // the bundle `make run` starts
const CLK_TCK = 100;

export interface IngestBenchResult {
  clients: number;
  detections_per_batch: number;
  seconds: number;
  batches: number;
  api_detections_per_s: number;
  api_p50_ms: number;
  api_p99_ms: number;
  raw_detections_per_s: number;
  ratio: number;
  api_cpu_ms_per_batch: number;
  raw_cpu_ms_per_batch: number;
  cpu_ratio: number;
  client_cpu_ms_per_batch: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU ms (user + system) of a process so far, from /proc. */
export function cpuMsOf(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) / CLK_TCK) * 1000;
}

const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

/** The built kernel (dist/heldar.js) as its own process, recorders and AI samplers off. */
export async function bootKernel(
  dir: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  // e.g. BENCH_KERNEL_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the kernel.
  const nodeArgs = (process.env.BENCH_KERNEL_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, MAIN], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HELDAR_DATA_DIR: dir,
      HELDAR_DATABASE_URL: `sqlite://${join(dir, 'heldar.db')}`,
      HELDAR_API_HOST: '127.0.0.1',
      HELDAR_API_PORT: String(port),
      HELDAR_LOG: 'warn',
      HELDAR_RECORDER_ENABLED: 'false',
      HELDAR_AI_ENABLED: 'false',
      HELDAR_MIN_FREE_DISK_GB: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const started = performance.now();
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { child, port };
    if (exited(child))
      throw new Error(`the kernel exited (${child.exitCode ?? child.signalCode}) during boot`);
    if (performance.now() - started > 60_000) throw new Error('the kernel was not ready within 60 s');
    await sleep(20);
  }
}

export async function stopKernel(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await gone;
  clearTimeout(timer);
}

function body(client: number, i: number): string {
  return JSON.stringify({
    camera_id: 'bench',
    task_type: 'object_detection',
    frame_id: `c${client}-${i}`,
    detections: Array.from({ length: PER_BATCH }, (_, j) => ({
      label: j % 3 ? 'person' : 'car',
      confidence: 0.9,
      bbox: [((i + j) % 90) / 100, 0.3, 0.08, 0.2],
      track_id: `${client}-${j}`,
      attributes: { color: 'red' },
    })),
  });
}

function post(port: number, agent: Agent, payload: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v1/ai/events',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * 16 clients posting batches of 20 detections (unique frame ids) for 20 s at a camera with 3
 * zones, through the whole kernel (validation, outbox, detections, the zone engine), next to the
 * raw driver inserting the same rows (outbox + detections) in the same run.
 *
 * The kernel runs as its own process (the built dist/heldar.js, as a site runs it), the 16
 * clients in this one: until issue 14 they shared one process, so the clients' HTTP and JSON work
 * ran on the kernel's event loop and was counted as kernel CPU. Workers are separate processes at
 * a site too. `api_cpu_ms_per_batch` is the kernel process's CPU (from /proc) per batch;
 * `client_cpu_ms_per_batch` is this process's (the clients') for the same run; the raw driver
 * runs in this process afterwards, on the same rows, for `raw_*` and the ratios.
 */
export async function benchIngest(): Promise<IngestBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-ingest-'));
  const kernel = await bootKernel(dir);
  const port = kernel.port;
  const pid = kernel.child.pid!;
  const base = `http://127.0.0.1:${port}`;
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  try {
    const json = { 'content-type': 'application/json' };
    await fetch(`${base}/api/v1/cameras`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ id: 'bench', name: 'Bench' }),
    });
    const zones = [
      {
        name: 'left',
        polygon: [
          [0, 0],
          [0.4, 0],
          [0.4, 1],
          [0, 1],
        ],
      },
      {
        name: 'right',
        polygon: [
          [0.6, 0],
          [1, 0],
          [1, 1],
          [0.6, 1],
        ],
      },
      {
        name: 'door',
        kind: 'line',
        polygon: [
          [0.5, 0],
          [0.5, 1],
        ],
      },
    ];
    for (const z of zones)
      await fetch(`${base}/api/v1/cameras/bench/zones`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify(z),
      });

    const latencies: number[] = [];
    const deadline = performance.now() + SECONDS * 1000;
    const cpu0 = process.cpuUsage();
    const kernelCpu0 = cpuMsOf(pid);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let i = 0; performance.now() < deadline; i++) {
          const payload = body(c, i);
          const s = performance.now();
          const status = await post(port, agent, payload);
          if (status !== 200) throw new Error(`ingest answered ${status}`);
          latencies.push(performance.now() - s);
        }
      }),
    );
    const apiS = (performance.now() - started) / 1000;
    const clientCpu = process.cpuUsage(cpu0);
    const kernelCpuMs = cpuMsOf(pid) - kernelCpu0;
    const batches = latencies.length;

    // Raw: the same number of batches, outbox row + detections per transaction, prepared statements.
    const raw = new BetterSqlite3(join(dir, 'raw.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, camera_id TEXT, frame_id TEXT, task_type TEXT, n INTEGER, created_at TEXT);
      CREATE UNIQUE INDEX uq ON outbox (camera_id, frame_id);
      CREATE TABLE detections (id TEXT PRIMARY KEY, camera_id TEXT, task_type TEXT, timestamp TEXT, label TEXT, confidence REAL, bbox TEXT, track_id TEXT, attributes TEXT, frame_id TEXT, created_at TEXT);
      CREATE INDEX d1 ON detections (camera_id, timestamp); CREATE INDEX d2 ON detections (camera_id, frame_id); CREATE INDEX d3 ON detections (created_at);`);
    const ob = raw.prepare(
      'INSERT INTO outbox (camera_id, frame_id, task_type, n, created_at) VALUES (?,?,?,?,?)',
    );
    const det = raw.prepare('INSERT INTO detections VALUES (?,?,?,?,?,?,?,?,?,?,?)');
    const tx = raw.transaction(
      (
        i: number,
        payload: {
          frame_id: string;
          detections: Array<{
            label: string;
            confidence: number;
            bbox: number[];
            track_id: string;
            attributes: object;
          }>;
        },
      ) => {
        const now = new Date().toISOString();
        ob.run('bench', `w:${payload.frame_id}`, 'object_detection', payload.detections.length, now);
        payload.detections.forEach((d, j) =>
          det.run(
            `det_${i}_${j}`,
            'bench',
            'object_detection',
            now,
            d.label,
            d.confidence,
            JSON.stringify(d.bbox),
            d.track_id,
            JSON.stringify({ ...d.attributes, source: 'worker' }),
            `w:${payload.frame_id}`,
            now,
          ),
        );
      },
    );
    const t0 = performance.now();
    const rawCpu0 = process.cpuUsage();
    for (let i = 0; i < batches; i++) tx(i, JSON.parse(body(i % CLIENTS, i)) as never);
    const rawS = (performance.now() - t0) / 1000;
    const rawCpu = process.cpuUsage(rawCpu0);
    raw.close();
    const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

    const apiRate = (batches * PER_BATCH) / apiS;
    const rawRate = (batches * PER_BATCH) / rawS;
    return {
      clients: CLIENTS,
      detections_per_batch: PER_BATCH,
      seconds: SECONDS,
      batches,
      api_detections_per_s: Math.round(apiRate),
      api_p50_ms: pct(latencies, 50),
      api_p99_ms: pct(latencies, 99),
      raw_detections_per_s: Math.round(rawRate),
      ratio: Math.round((apiRate / rawRate) * 1000) / 1000,
      // CPU per batch (the kernel process, vs the raw driver): steadier than wall-clock rates on
      // a shared machine.
      api_cpu_ms_per_batch: Math.round((kernelCpuMs / batches) * 1000) / 1000,
      raw_cpu_ms_per_batch: Math.round((cpuMs(rawCpu) / batches) * 1000) / 1000,
      cpu_ratio: Math.round((cpuMs(rawCpu) / kernelCpuMs) * 1000) / 1000,
      client_cpu_ms_per_batch: Math.round((cpuMs(clientCpu) / batches) * 1000) / 1000,
    };
  } finally {
    agent.destroy();
    await stopKernel(kernel.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
