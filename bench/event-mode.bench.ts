import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/heldar-config';
import { KeepService } from '../src/keep/keep.service';
import { TimelineService } from '../src/timeline/timeline.service';
import { freePort, procCpu, startRtspPublisher } from './support';

const PRE = 10;
const POST = 30;
const SEG = 10;
const TRIGGERS_PER_HOUR = 10;

export interface EventModeBenchResult {
  cameras: number;
  seconds: number;
  segment_seconds: number;
  pre_roll_seconds: number;
  post_roll_seconds: number;
  /** Kernel CPU per camera-minute recording continuously, and in event mode (same run, same source). */
  continuous_kernel_cpu_s_per_camera_minute: number;
  event_kernel_cpu_s_per_camera_minute: number;
  ratio_cpu_event_to_continuous: number;
  /** Footage recorded per camera per second, and what one trigger kept (seconds, bytes). */
  recorded_bytes_per_camera_s: number;
  kept_seconds_per_trigger: number;
  kept_bytes_per_trigger: number;
  /** How far before `t − pre_roll` kept footage starts (bound: one segment), and after `t + post_roll` it ends. */
  pre_roll_slack_s_max: number;
  post_roll_slack_s_max: number;
  /** Extrapolated to a day at 10 triggers an hour (windows not overlapping): bytes kept / recorded. */
  kept_fraction_at_10_per_hour: number;
  continuous_gb_per_camera_day: number;
  event_gb_per_camera_day: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Event recording against continuous on the RTSP test camera: N cameras record continuously for a
 * minute, then N event cameras (10 s pre-roll, 30 s post-roll, 10 s segments) record for 2.5 min
 * with one trigger each; every segment is then decided. Reports the kernel's CPU per camera-minute
 * in each mode (ratio), what one trigger keeps, how tight the pre/post-roll is, and the disk a day
 * takes at 10 triggers an hour, extrapolated from the measured bytes.
 */
export async function benchEventMode(cameras = 8, eventSeconds = 150): Promise<EventModeBenchResult> {
  const port = await freePort();
  const publisher = await startRtspPublisher(port);
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-event-'));
  const config = loadConfig({
    HELDAR_DATA_DIR: dir,
    HELDAR_DATABASE_URL: `sqlite://${join(dir, 'heldar.db')}`,
    HELDAR_LOG: 'warn',
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const post = async (path: string, body: unknown, want: number) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== want) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const patch = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  };
  const timeline = app.get(TimelineService);
  const keep = app.get(KeepService);
  try {
    // Continuous: one minute, after the first segment of each camera.
    const url = `rtsp://127.0.0.1:${port}/stream`;
    for (let i = 0; i < cameras; i++)
      await post(
        '/api/v1/cameras',
        { id: `cont_${i}`, name: `Cont ${i}`, main_stream_url: url, segment_seconds: SEG },
        201,
      );
    await sleep(15_000);
    let cpu0 = procCpu('self').own;
    await sleep(60_000);
    const contCpu = procCpu('self').own - cpu0;
    for (let i = 0; i < cameras; i++) await patch(`/api/v1/cameras/cont_${i}`, { record_enabled: false });

    // Event mode: same source, same segment length; one trigger per camera a minute in.
    for (let i = 0; i < cameras; i++)
      await post(
        '/api/v1/cameras',
        {
          id: `ev_${i}`,
          name: `Event ${i}`,
          main_stream_url: url,
          record_mode: 'event',
          pre_roll_seconds: PRE,
          post_roll_seconds: POST,
          segment_seconds: SEG,
        },
        201,
      );
    await sleep(15_000);
    cpu0 = procCpu('self').own;
    const startedMs = Date.now();
    await sleep(60_000);
    const windows: Array<{ start: number; end: number }> = [];
    for (let i = 0; i < cameras; i++) {
      const r = (await post(`/api/v1/cameras/ev_${i}/record-trigger`, { reason: 'bench' }, 200)) as {
        window: { start: string; end: string };
      };
      windows.push({ start: Date.parse(r.window.start), end: Date.parse(r.window.end) });
    }
    await sleep(Math.max(0, eventSeconds * 1000 - (Date.now() - startedMs)));
    const eventCpu = procCpu('self').own - cpu0;

    // Everything decided as the loop will once its horizon has passed.
    let recordedBytes = 0;
    let recordedS = 0;
    for (let i = 0; i < cameras; i++)
      await keep.decideCamera(
        { id: `ev_${i}`, preRollSeconds: PRE, segmentSeconds: SEG },
        Date.now() + 120_000,
      );
    let keptBytes = 0;
    let keptS = 0;
    let preSlack = 0;
    let postSlack = 0;
    for (let i = 0; i < cameras; i++) {
      const kept = (await timeline.listSegments(`ev_${i}`, undefined, undefined, 50_000)).filter((s) =>
        s.kept_by.startsWith('event:'),
      );
      if (kept.length === 0) throw new Error(`ev_${i}: nothing kept`);
      keptBytes += kept.reduce((n, s) => n + s.size_bytes, 0);
      keptS += kept.reduce((n, s) => n + s.duration_s, 0);
      preSlack = Math.max(preSlack, (windows[i].start - Date.parse(kept[0].start_time)) / 1000);
      postSlack = Math.max(postSlack, (Date.parse(kept[kept.length - 1].end_time) - windows[i].end) / 1000);
    }
    // Continuous cameras' footage gives the bytes per second of this source.
    for (let i = 0; i < cameras; i++) {
      const segs = await timeline.listSegments(`cont_${i}`, undefined, undefined, 50_000);
      recordedBytes += segs.reduce((n, s) => n + s.size_bytes, 0);
      recordedS += segs.reduce((n, s) => n + s.duration_s, 0);
    }
    const bytesPerS = recordedBytes / recordedS;
    const keptPerTrigger = keptS / cameras;
    const fraction = Math.min(1, (TRIGGERS_PER_HOUR * keptPerTrigger) / 3600);
    const camMin = (n: number) => (cameras * n) / 60;
    const contPer = contCpu / camMin(60);
    const eventPer = eventCpu / camMin(eventSeconds);
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    return {
      cameras,
      seconds: eventSeconds,
      segment_seconds: SEG,
      pre_roll_seconds: PRE,
      post_roll_seconds: POST,
      continuous_kernel_cpu_s_per_camera_minute: r3(contPer),
      event_kernel_cpu_s_per_camera_minute: r3(eventPer),
      ratio_cpu_event_to_continuous: contPer > 0 ? Math.round((eventPer / contPer) * 100) / 100 : 0,
      recorded_bytes_per_camera_s: Math.round(bytesPerS),
      kept_seconds_per_trigger: Math.round(keptPerTrigger * 10) / 10,
      kept_bytes_per_trigger: Math.round(keptBytes / cameras),
      pre_roll_slack_s_max: Math.round(preSlack * 10) / 10,
      post_roll_slack_s_max: Math.round(postSlack * 10) / 10,
      kept_fraction_at_10_per_hour: r3(fraction),
      continuous_gb_per_camera_day: r3((bytesPerS * 86_400) / 1e9),
      event_gb_per_camera_day: r3((bytesPerS * 86_400 * fraction) / 1e9),
    };
  } finally {
    await app.close();
    publisher.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
