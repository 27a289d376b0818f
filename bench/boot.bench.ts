import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pct, round } from './stats';

const TRIALS = 3;
const IDLE_MS = 3000;
const MAIN = join(__dirname, '..', 'heldar.js');

export interface BootFigures {
  ready_ms_p50: number;
  /** CPU (user + system) the process spent until `/readyz` answered: steadier than wall time on a shared machine. */
  ready_cpu_ms_p50: number;
  idle_rss_mib: number;
}

export interface BootBenchResult {
  trials: number;
  empty: BootFigures;
  cameras_64: BootFigures;
  /** A bare Node HTTP server answering /readyz, started the same way. */
  raw_node_http: BootFigures;
  ratio_ready_empty: number;
  ratio_ready_64: number;
  ratio_rss_64: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const status = (url: string) =>
  new Promise<number>((resolve) => {
    const req = get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
  });

/** utime + stime of a process, in ms (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 10 ms). */
const cpuMs = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

const rssMib = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** Spawn, time until `/readyz` answers 200, let it idle, read its RSS, stop it. */
async function bootOnce(
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<{ readyMs: number; cpuMs: number; rss: number }> {
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (;;) {
      if ((await status(`http://127.0.0.1:${port}/readyz`)) === 200) break;
      if (child.exitCode !== null)
        throw new Error(`the server exited with ${child.exitCode} before it was ready`);
      if (performance.now() - t0 > 60_000) throw new Error('not ready within 60 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    const readyMs = performance.now() - t0;
    const cpu = cpuMs(child.pid!);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return { readyMs, cpuMs: cpu, rss: rssMib(child.pid!) };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

async function trials(
  make: (port: number) => { args: string[]; env: NodeJS.ProcessEnv },
): Promise<BootFigures> {
  const ready: number[] = [];
  const cpu: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const port = await freePort();
    const { args, env } = make(port);
    const r = await bootOnce(args, env, port);
    ready.push(r.readyMs);
    cpu.push(r.cpuMs);
    rss.push(r.rss);
  }
  return {
    ready_ms_p50: round(pct(ready, 50), 0),
    ready_cpu_ms_p50: round(pct(cpu, 50), 0),
    idle_rss_mib: round(pct(rss, 50), 1),
  };
}

/**
 * Time from process start to `/readyz` 200 and idle RSS of the built kernel, on an empty and on a
 * 64-camera database (recording and sampling off), next to a bare Node HTTP server.
 */
export async function benchBoot(): Promise<BootBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-boot-'));
  const kernel = (data: string) => (port: number) => ({
    args: [MAIN],
    env: {
      PATH: process.env.PATH,
      HELDAR_DATA_DIR: data,
      HELDAR_DATABASE_URL: `sqlite://${join(data, 'heldar.db')}`,
      HELDAR_API_HOST: '127.0.0.1',
      HELDAR_API_PORT: String(port),
      HELDAR_LOG: 'warn',
      HELDAR_RECORDER_ENABLED: 'false',
      HELDAR_AI_ENABLED: 'false',
      HELDAR_MIN_FREE_DISK_GB: '0',
    },
  });
  try {
    const empty = await trials(kernel(join(dir, 'empty')));
    // 64 cameras through the API of a running kernel, then boots of that database.
    const full = join(dir, 'full');
    const port = await freePort();
    const { env } = kernel(full)(port);
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      while ((await status(`http://127.0.0.1:${port}/readyz`)) !== 200)
        await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 64; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/cameras`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            id: `cam_${i}`,
            name: `Camera ${i}`,
            vendor: 'hikvision',
            address: `192.0.2.${i + 1}`,
            username: 'admin',
            password: 'bench-password',
          }),
        });
        if (res.status !== 201) throw new Error(`camera ${i}: ${res.status} ${await res.text()}`);
      }
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    const cameras_64 = await trials(kernel(full));
    const raw = await trials((p) => ({
      args: [
        '-e',
        `require('http').createServer((q, s) => { s.writeHead(200, {'content-type': 'application/json'}); s.end('{"ready":true}'); }).listen(${p}, '127.0.0.1')`,
      ],
      env: { PATH: process.env.PATH },
    }));
    return {
      trials: TRIALS,
      empty,
      cameras_64,
      raw_node_http: raw,
      ratio_ready_empty: round(empty.ready_ms_p50 / raw.ready_ms_p50, 1),
      ratio_ready_64: round(cameras_64.ready_ms_p50 / raw.ready_ms_p50, 1),
      ratio_rss_64: round(cameras_64.idle_rss_mib / raw.idle_rss_mib, 1),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
