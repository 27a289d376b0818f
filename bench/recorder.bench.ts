import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/heldar-config';
import { ProcessSupervisor } from '../src/process/process-supervisor.service';
import { IndexerService } from '../src/timeline/indexer.service';
import { TimelineService } from '../src/timeline/timeline.service';
import { tmpdir } from 'node:os';
import { freePort, procCpu, startRtspPublisher } from './support';

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export interface RecorderBenchResult {
  cameras: number;
  seconds: number;
  segment_seconds: number;
  indexer_interval_s: number;
  kernel_cpu_s_per_camera_minute: number;
  ffprobe_cpu_s_per_camera_minute: number;
  ffmpeg_cpu_s_per_camera_minute: number;
  ratio_kernel_to_ffmpeg: number;
  index_lag_ms_p50: number;
  index_lag_ms_p99: number;
  segments_indexed: number;
  finished_files_on_disk: number;
  missed_segments: number;
}

/**
 * N cameras recorded for `seconds` from one RTSP publisher (GStreamer, shared encoder): the
 * kernel process's CPU per camera-minute next to its ffmpeg children's, the index lag (file
 * closed → row committed) and any finished file left unindexed.
 */
export async function benchRecorder(
  cameras = 16,
  seconds = 60,
  segmentSeconds = 2,
): Promise<RecorderBenchResult> {
  const port = await freePort();
  const publisher = await startRtspPublisher(port);
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-rec-'));
  // New segments arrive from ffmpeg's segment list; the reconciliation pass stays out of the way.
  const indexerInterval = 3600;
  const config = loadConfig({
    HELDAR_DATA_DIR: dir,
    HELDAR_DATABASE_URL: `sqlite://${join(dir, 'heldar.db')}`,
    HELDAR_LOG: 'warn',
    HELDAR_INDEXER_INTERVAL_S: String(indexerInterval),
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  try {
    const cpu0 = procCpu('self');
    for (let i = 0; i < cameras; i++) {
      const res = await fetch(`${base}/api/v1/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id: `bench_${i}`,
          name: `Bench ${i}`,
          main_stream_url: `rtsp://127.0.0.1:${port}/stream`,
          segment_seconds: segmentSeconds,
        }),
      });
      if (res.status !== 201) throw new Error(`camera create failed: ${res.status} ${await res.text()}`);
    }
    await new Promise((r) => setTimeout(r, seconds * 1000));
    // ffmpeg CPU before the children stop (their /proc entries vanish on exit).
    const pids = app
      .get(ProcessSupervisor)
      .list()
      .map((p) => p.status.pid)
      .filter((p): p is number => p !== null);
    const ffmpegCpu = pids.reduce((sum, pid) => sum + procCpu(pid).own, 0);
    const cpu1 = procCpu('self');
    const kernelCpu = cpu1.own - cpu0.own;
    const ffprobeCpu = cpu1.reapedChildren - cpu0.reapedChildren; // the indexer's probes
    // Every file finished now (all but each camera's newest) must be indexed within two passes.
    const finishedFiles: string[] = [];
    for (let i = 0; i < cameras; i++) {
      const id = `bench_${i}`;
      const camDir = join(config.recordingsDirAbs, id);
      const files = readdirSync(camDir)
        .flatMap((d) => readdirSync(join(camDir, d)).map((f) => `${d}/${f}`))
        .filter((f) => f.endsWith('.mp4'))
        .sort();
      finishedFiles.push(...files.slice(0, -1).map((f) => `${id}/${f}`));
    }
    await new Promise((r) => setTimeout(r, 3000));
    const timeline = app.get(TimelineService);
    const indexedPaths = new Set<string>();
    for (let i = 0; i < cameras; i++) {
      for (const seg of await timeline.listSegments(`bench_${i}`, undefined, undefined, 50000))
        indexedPaths.add(seg.path);
    }
    const finished = finishedFiles.length;
    const indexed = finishedFiles.filter((f) => indexedPaths.has(f)).length;
    const lags = app.get(IndexerService).lagSamplesMs;
    const cameraMinutes = (cameras * seconds) / 60;
    const kernelPer = kernelCpu / cameraMinutes;
    const ffmpegPer = ffmpegCpu / cameraMinutes;
    return {
      cameras,
      seconds,
      segment_seconds: segmentSeconds,
      indexer_interval_s: indexerInterval,
      kernel_cpu_s_per_camera_minute: Math.round(kernelPer * 1000) / 1000,
      ffprobe_cpu_s_per_camera_minute: Math.round((ffprobeCpu / cameraMinutes) * 1000) / 1000,
      ffmpeg_cpu_s_per_camera_minute: Math.round(ffmpegPer * 1000) / 1000,
      ratio_kernel_to_ffmpeg: ffmpegPer > 0 ? Math.round((kernelPer / ffmpegPer) * 100) / 100 : 0,
      index_lag_ms_p50: Math.round(percentile(lags, 50)),
      index_lag_ms_p99: Math.round(percentile(lags, 99)),
      segments_indexed: indexedPaths.size,
      finished_files_on_disk: finished,
      missed_segments: finished - indexed,
    };
  } finally {
    await app.close();
    publisher.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
