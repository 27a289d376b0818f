import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootKernel, cpuMsOf, stopKernel } from './ingest.bench';
import { round } from './stats';
import { freePort } from './support';

const CLIENTS = 16;
const REQUESTS = Number(process.env.BENCH_HTTP_REQUESTS ?? 20_000);
const WARMUP = 1_000;

export interface HttpBenchResult {
  clients: number;
  requests: number;
  /** Kernel CPU per request (µs): the whole HTTP stack, no database. */
  healthz_cpu_us_per_request: number;
  not_found_cpu_us_per_request: number;
  /** A bare node:http server answering the same JSON, in the same run. */
  raw_cpu_us_per_request: number;
  ratio_healthz: number;
  ratio_not_found: number;
}

const RAW_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ status: 'ok' });
http.createServer((req, res) => {
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.send && process.send('ready'));
`;

function fetchOnce(port: number, path: string, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
}

/** CPU µs the server process spends per request, `REQUESTS` requests from 16 keep-alive clients. */
async function cpuPerRequest(pid: number, port: number, path: string): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  try {
    for (let i = 0; i < WARMUP; i++) await fetchOnce(port, path, agent);
    const before = cpuMsOf(pid);
    let sent = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (sent < REQUESTS) {
          sent++;
          await fetchOnce(port, path, agent);
        }
      }),
    );
    return ((cpuMsOf(pid) - before) * 1000) / REQUESTS;
  } finally {
    agent.destroy();
  }
}

async function startRaw(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', RAW_SERVER], {
    env: { PATH: process.env.PATH, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the raw server exited (${code})`)));
  });
  return { child, port };
}

/**
 * The HTTP stack's own cost: kernel CPU per request for routes that touch no database (`/healthz`,
 * and an unknown route's 404, which goes through every middleware, the router and the exception
 * filter), next to a bare node:http server answering the same JSON in the same run.
 */
export async function benchHttp(): Promise<HttpBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-http-'));
  try {
    const raw = await startRaw();
    let rawUs: number;
    try {
      rawUs = await cpuPerRequest(raw.child.pid!, raw.port, '/healthz');
    } finally {
      raw.child.kill('SIGTERM');
    }
    const kernel = await bootKernel(dir);
    try {
      const healthz = await cpuPerRequest(kernel.child.pid!, kernel.port, '/healthz');
      const notFound = await cpuPerRequest(kernel.child.pid!, kernel.port, '/api/v1/nope');
      return {
        clients: CLIENTS,
        requests: REQUESTS,
        healthz_cpu_us_per_request: Math.round(healthz),
        not_found_cpu_us_per_request: Math.round(notFound),
        raw_cpu_us_per_request: Math.round(rawUs),
        ratio_healthz: round(healthz / rawUs, 1),
        ratio_not_found: round(notFound / rawUs, 1),
      };
    } finally {
      await stopKernel(kernel.child);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
