import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/heldar-config';
import { probeMp4 } from '../src/media/mp4-probe';
import { TimelineRepository } from '../src/timeline/timeline.repository';
import { pct, round } from './stats';

export interface BacklogBenchResult {
  cameras: number;
  files: number;
  kernel_files_per_s: number;
  /** The in-process MP4 reader alone over the same files, one at a time, same run. */
  raw_probe_files_per_s: number;
  ratio_kernel_to_raw_probe: number;
  api_cameras_p50_ms: number;
  api_cameras_p99_ms: number;
  api_requests: number;
}

const name = (ms: number) =>
  new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15) + '.mp4';

/**
 * Footage written while the kernel was down: `files` real 10 s segments across `cameras` day
 * folders, found at boot. Kernel: boot → every row committed (files/s), with GET /api/v1/cameras
 * issued every 50 ms meanwhile (p50/p99). Raw: the in-process MP4 reader over the same files.
 */
export async function benchBacklog(cameras = 4, files = 8000): Promise<BacklogBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-backlog-'));
  const env = {
    HELDAR_DATA_DIR: dir,
    HELDAR_DATABASE_URL: `sqlite://${join(dir, 'heldar.db')}`,
    HELDAR_LOG: 'warn',
    HELDAR_INDEXER_INTERVAL_S: '3600',
  };
  const src = join(dir, 'src.mp4');
  execFileSync('ffmpeg', [
    '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=10:duration=10',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-pix_fmt', 'yuv420p',
    '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-y', src,
  ]); // prettier-ignore
  try {
    const config = loadConfig(env);
    let app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    let base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    for (let c = 0; c < cameras; c++) {
      const res = await fetch(`${base}/api/v1/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: `bl_${c}`, name: `Backlog ${c}`, segment_seconds: 10 }),
      });
      if (res.status !== 201) throw new Error(`camera create failed: ${res.status}`);
    }
    await app.close();

    const perCamera = Math.ceil(files / cameras);
    const start = Date.now() - perCamera * 10_000 - 3_600_000;
    const paths: string[] = [];
    for (let c = 0; c < cameras; c++) {
      let made = '';
      for (let i = 0; i < perCamera; i++) {
        const ms = start + i * 10_000;
        const d = join(config.recordingsDirAbs, `bl_${c}`, new Date(ms).toISOString().slice(0, 10));
        if (d !== made) mkdirSync((made = d), { recursive: true });
        const p = join(d, name(ms));
        copyFileSync(src, p);
        utimesSync(p, (ms + 10_000) / 1000, (ms + 10_000) / 1000);
        paths.push(p);
      }
    }
    const total = paths.length;

    const t0 = performance.now();
    app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const repo = app.get(TimelineRepository);
    const latencies: number[] = [];
    let done = false;
    const prober = (async () => {
      while (!done) {
        const a = performance.now();
        const res = await fetch(`${base}/api/v1/cameras`);
        await res.arrayBuffer();
        latencies.push(performance.now() - a);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    while ((await repo.totals(null)).count < total) {
      await new Promise((r) => setTimeout(r, 100));
      if (performance.now() - t0 > 600_000) throw new Error('backlog not indexed within 10 minutes');
    }
    const kernelS = (performance.now() - t0) / 1000;
    done = true;
    await prober;
    await app.close();

    const r0 = performance.now();
    for (const p of paths) if (!(await probeMp4(p))) throw new Error(`raw probe failed: ${p}`);
    const rawS = (performance.now() - r0) / 1000;
    const kernelRate = total / kernelS;
    const rawRate = total / rawS;
    return {
      cameras,
      files: total,
      kernel_files_per_s: round(kernelRate, 0),
      raw_probe_files_per_s: round(rawRate, 0),
      ratio_kernel_to_raw_probe: round(kernelRate / rawRate, 2),
      api_cameras_p50_ms: round(pct(latencies, 50), 1),
      api_cameras_p99_ms: round(pct(latencies, 99), 1),
      api_requests: latencies.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
