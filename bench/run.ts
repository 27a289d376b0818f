import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchDetectionInsert } from './detection-insert.bench';
import { benchEvents } from './events.bench';
import { benchZones } from './zones.bench';
import { benchIngest } from './ingest.bench';
import { benchExport } from './export.bench';
import { benchRecorder } from './recorder.bench';
import { benchBacklog } from './backlog.bench';
import { benchTimeline } from './timeline.bench';
import { benchBoot } from './boot.bench';
import { benchMetrics } from './metrics.bench';
import { benchScale } from './scale.bench';
import { benchHttp } from './http.bench';
import { benchEventMode } from './event-mode.bench';
import { benchPlayback } from './playback.bench';
import { benchConsole } from './console.bench';
import { benchCluster } from './cluster.bench';

/**
 * `npm run bench`: each benchmark reports its figure and the raw tool's figure from the same
 * run (so the ratio holds on a noisy machine), merged into bench/results.json by section.
 */
async function main(): Promise<void> {
  const file = join(__dirname, '..', '..', 'bench', 'results.json');
  let results: Record<string, unknown> = {};
  try {
    results = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    /* first run */
  }
  const only = process.env.BENCH_ONLY; // e.g. BENCH_ONLY=timeline
  const detection_insert =
    only && only !== 'detection_insert' ? results.detection_insert : await benchDetectionInsert();
  console.log('detection insert (100k rows, batches of 100, SQLite):', detection_insert);
  const timeline = only && only !== 'timeline' ? results.timeline : await benchTimeline();
  console.log('timeline queries (30 days, 1 and 64 cameras):', JSON.stringify(timeline, null, 2));
  const exportClip = only && only !== 'export' ? results.export : await benchExport();
  console.log('export (10-minute clip from 2 s segments):', exportClip);
  const cameras = Number(process.env.BENCH_CAMERAS ?? 16);
  const seconds = Number(process.env.BENCH_SECONDS ?? 60);
  const segmentSeconds = Number(process.env.BENCH_SEGMENT_S ?? 2);
  const recorder =
    only && only !== 'recorder' ? results.recorder : await benchRecorder(cameras, seconds, segmentSeconds);
  console.log(`recorder (${cameras} cameras, ${seconds} s, ${segmentSeconds} s segments):`, recorder);
  const backlog = only && only !== 'backlog' ? results.backlog : await benchBacklog();
  console.log('backlog (8,000 files found at boot, 4 cameras):', backlog);
  const webhooks = only && only !== 'events' ? results.events : await benchEvents();
  console.log('events out (1,000 events × 5 webhook subscriptions):', webhooks);
  const zones = only && only !== 'zones' ? results.zones : await benchZones();
  console.log('zone engine (3 zones × 50 tracks):', zones);
  const ingest = only && only !== 'ingest' ? results.ingest : await benchIngest();
  console.log('detection ingest (16 clients × 20 detections, 3 zones):', ingest);
  const http = only && only !== 'http' ? results.http : await benchHttp();
  console.log('HTTP stack (kernel CPU per request, no database):', http);
  const boot = only && only !== 'boot' ? results.boot : await benchBoot();
  console.log('boot (process start to /readyz 200, idle RSS):', JSON.stringify(boot, null, 2));
  const metrics = only && only !== 'metrics' ? results.metrics : await benchMetrics();
  console.log('/metrics with 64 cameras:', metrics);
  const eventMode = only && only !== 'event_mode' ? results.event_mode : await benchEventMode();
  console.log('event recording vs continuous (8 cameras, 10 s pre-roll, 30 s post-roll):', eventMode);
  const playback = only && only !== 'playback' ? results.playback : await benchPlayback();
  console.log('playback (24 h of 60 s segments, 32 viewers at 1×):', JSON.stringify(playback, null, 2));
  const consoleUi = only && only !== 'console' ? results.console : await benchConsole();
  console.log('console (first paint in chromium, shipped size):', JSON.stringify(consoleUi, null, 2));
  const scale = only && only !== 'scale' ? results.scale : await benchScale();
  console.log('scale (30 days held vs empty):', JSON.stringify(scale, null, 2));
  const cluster = only && only !== 'cluster' ? results.cluster : await benchCluster();
  console.log(
    'cluster (3 nodes on one PostgreSQL: failover, lease bookkeeping):',
    JSON.stringify(cluster, null, 2),
  );
  results = {
    ...results,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    updated_at: new Date().toISOString(),
    detection_insert,
    timeline,
    export: exportClip,
    recorder,
    backlog,
    events: webhooks,
    zones,
    ingest,
    http,
    boot,
    metrics,
    event_mode: eventMode,
    playback,
    console: consoleUi,
    scale,
    cluster,
  };
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  console.log(`wrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
