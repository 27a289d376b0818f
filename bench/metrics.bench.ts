import { mkdtempSync, rmSync } from 'node:fs';
import { get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/heldar-config';
import { pct, round } from './stats';
import { bareHttpServer } from './support';

const CAMERAS = 64;
const WARMUP = 20;
const REQUESTS = 300;

export interface MetricsBenchResult {
  cameras: number;
  requests: number;
  body_bytes: number;
  series: number;
  api_p50_ms: number;
  api_p99_ms: number;
  /** A bare Node server sending the same body: the HTTP floor. */
  raw_p50_ms: number;
  raw_p99_ms: number;
  ratio_p50: number;
}

const fetchText = (url: string) =>
  new Promise<string>((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}: ${body}`)),
      );
    }).on('error', reject);
  });

async function timed(url: string): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fetchText(url);
  const out: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    await fetchText(url);
    out.push(performance.now() - t0);
  }
  return out;
}

/** `/metrics` latency with 64 cameras registered (recorder statuses in memory) vs a bare server. */
export async function benchMetrics(): Promise<MetricsBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-metrics-'));
  const config = loadConfig({
    HELDAR_DATA_DIR: dir,
    HELDAR_DATABASE_URL: `sqlite://${join(dir, 'heldar.db')}`,
    HELDAR_LOG: 'warn',
    HELDAR_RECORDER_ENABLED: 'false',
    HELDAR_AI_ENABLED: 'false',
    HELDAR_MIN_FREE_DISK_GB: '0',
  });
  const app = await createApp(config);
  let raw: Server | undefined;
  try {
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    for (let i = 0; i < CAMERAS; i++) {
      const res = await fetch(`${base}/api/v1/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id: `cam_${i}`,
          name: `Camera ${i}`,
          main_stream_url: `rtsp://192.0.2.${i + 1}/s`,
        }),
      });
      if (res.status !== 201) throw new Error(`camera ${i}: ${res.status}`);
    }
    await new Promise((r) => setTimeout(r, 500)); // the recorders reconcile (to `disabled`) from the bus
    const body = await fetchText(`${base}/metrics`);
    const api = await timed(`${base}/metrics`);
    const bare = await bareHttpServer('text/plain; version=0.0.4; charset=utf-8', () => body);
    raw = bare.server;
    const rawTimes = await timed(`http://127.0.0.1:${bare.port}/metrics`);
    return {
      cameras: CAMERAS,
      requests: REQUESTS,
      body_bytes: Buffer.byteLength(body),
      series: body.split('\n').filter((l) => l && !l.startsWith('#')).length,
      api_p50_ms: round(pct(api, 50)),
      api_p99_ms: round(pct(api, 99)),
      raw_p50_ms: round(pct(rawTimes, 50)),
      raw_p99_ms: round(pct(rawTimes, 99)),
      ratio_p50: round(pct(api, 50) / pct(rawTimes, 50), 1),
    };
  } finally {
    await new Promise((r) => (raw ? raw.close(r) : r(undefined)));
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
