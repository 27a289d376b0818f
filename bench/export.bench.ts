import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/heldar-config';
import { buildClipArgs, buildConcatList } from '../src/media/ffmpeg-args';
import { IndexerService } from '../src/timeline/indexer.service';

const MINUTES = 10;
const RUNS = 3;

const stamp = (ms: number) =>
  new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15) + '.mp4';

export interface ExportBenchResult {
  clip_seconds: number;
  segments: number;
  api_p50_ms: number;
  raw_ffmpeg_p50_ms: number;
  ratio: number;
}

/** A 10-minute clip from 2-second segments through the API, next to bare ffmpeg concat of the same files. */
export async function benchExport(): Promise<ExportBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'heldar-bench-exp-'));
  try {
    const config = loadConfig({
      HELDAR_DATA_DIR: dir,
      HELDAR_DATABASE_URL: `sqlite://${join(dir, 'heldar.db')}`,
      HELDAR_LOG: 'warn',
      HELDAR_RECORDER_ENABLED: 'false',
      HELDAR_INDEXER_INTERVAL_S: '3600',
    });
    // 10 minutes of 2 s fragmented-MP4 segments, generated (not recorded in real time).
    const rec = join(config.recordingsDirAbs, 'bench');
    mkdirSync(rec, { recursive: true });
    execFileSync('ffmpeg', [
      '-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=640x360:rate=10:duration=${MINUTES * 60}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '20', '-pix_fmt', 'yuv420p',
      '-f', 'segment', '-segment_time', '2', '-segment_format', 'mp4',
      '-segment_format_options', 'movflags=+frag_keyframe+empty_moov+default_base_moof',
      '-reset_timestamps', '1', join(rec, 'gen_%04d.mp4'),
    ]); // prettier-ignore
    const t0 = Date.now() - 3_600_000;
    const files = readdirSync(rec).sort();
    files.forEach((f, i) => {
      const target = join(rec, stamp(t0 + i * 2000));
      renameSync(join(rec, f), target);
      utimesSync(target, (t0 + (i + 1) * 2000) / 1000, (t0 + (i + 1) * 2000) / 1000);
    });
    const app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    try {
      await fetch(`${base}/api/v1/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'bench', name: 'Bench', segment_seconds: 2 }),
      });
      await app.get(IndexerService).scanCamera('bench');
      const from = new Date(t0).toISOString();
      const to = new Date(t0 + MINUTES * 60_000).toISOString();
      const api: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const s = performance.now();
        const res = await fetch(`${base}/api/v1/cameras/bench/clip`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ from, to }),
        });
        if (res.status !== 201) throw new Error(`clip: ${res.status} ${await res.text()}`);
        await res.json();
        api.push(performance.now() - s);
      }
      // Bare ffmpeg: the same concat list and arguments, no kernel around it.
      const list = join(dir, 'raw.txt');
      writeFileSync(
        list,
        buildConcatList(
          // The kernel moved the flat files into day folders (`<day>/<file>`) at boot.
          readdirSync(rec, { recursive: true, encoding: 'utf8' })
            .filter((f) => f.endsWith('.mp4'))
            .sort()
            .map((f) => join(rec, f)),
        ),
      );
      const raw: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const s = performance.now();
        execFileSync('ffmpeg', buildClipArgs(list, 0, MINUTES * 60, join(dir, `raw_${i}.mp4`)));
        raw.push(performance.now() - s);
      }
      const p50 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
      return {
        clip_seconds: MINUTES * 60,
        segments: files.length,
        api_p50_ms: Math.round(p50(api)),
        raw_ffmpeg_p50_ms: Math.round(p50(raw)),
        ratio: Math.round((p50(api) / p50(raw)) * 100) / 100,
      };
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
