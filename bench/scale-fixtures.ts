import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Recording fixtures for the `scale` benchmark: N cameras × D days of finished segments, each a
 * tiny REAL fragmented MP4 (its own inode, mtime = the segment's end) named as the recorder names
 * them. Generated once into a cache and linked (hard links) into each run's recordings directory,
 * so a run may move or delete its files without touching the cache.
 */

/** `flat`: `<camera>/<YYYYmmdd_HHMMSS>.mp4` (the recorder today); `day`: `<camera>/<YYYY-MM-DD>/<YYYYmmdd_HHMMSS>.mp4`. */
export type SegmentLayout = 'flat' | 'day';

/** The layout the kernel records in (day folders since issue 14; a flat store is moved into them at boot). */
export const KERNEL_LAYOUT: SegmentLayout = 'day';

export const SCALE_CACHE_ROOT = process.env.BENCH_SCALE_CACHE ?? '/tmp/heldar-scale-cache';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The camera ids of the benchmark, cam_00 … */
export const scaleCameraId = (i: number): string => `cam_${pad(i)}`;

/** Path of a segment starting at `startMs` relative to its camera's directory (UTC, as the
 * recorder's strftime names files on a UTC host). */
export function segmentRelPath(startMs: number, layout: SegmentLayout): string {
  const d = new Date(startMs);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const name = `${day.replace(/-/g, '')}_${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}.mp4`;
  return layout === 'day' ? `${day}/${name}` : name;
}

export interface ScaleFixture {
  /** Directory holding one sub-directory per camera id. */
  root: string;
  layout: SegmentLayout;
  days: number;
  segmentSeconds: number;
  /** End of the newest segment (every camera holds the same span). */
  endMs: number;
  startMs: number;
  filesPerCamera: number;
  /** Bytes of the one MP4 every file copies. */
  fileBytes: number;
  /** Seconds spent generating in this call (0 when everything came from the cache). */
  generatedS: number;
}

/** One small fragmented MP4 of `seconds` (64x36 grey, 1 fps, H.264): ~2.4 KB for 60 s. */
function makeSegmentMp4(path: string, seconds: number): Buffer {
  execFileSync(
    process.env.HELDAR_FFMPEG_BIN ?? 'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=c=gray:size=64x36:rate=1',
      '-t',
      String(seconds),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      String(seconds),
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+frag_keyframe+empty_moov+default_base_moof',
      '-f',
      'mp4',
      path,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return readFileSync(path);
}

interface Manifest {
  endMs: number;
  fileBytes: number;
}

/**
 * The cached fixture for `cameras` cameras (cam_00 …), generating the cameras not yet cached.
 * Each camera directory is written under a temporary name and renamed when complete, so an
 * interrupted generation is redone rather than reused.
 */
export function ensureScaleFixture(opts: {
  cameras: number;
  days: number;
  layout?: SegmentLayout;
  segmentSeconds?: number;
}): ScaleFixture {
  const layout = opts.layout ?? KERNEL_LAYOUT;
  const segmentSeconds = opts.segmentSeconds ?? 60;
  const root = join(SCALE_CACHE_ROOT, `${layout}-${opts.days}d-${segmentSeconds}s`);
  mkdirSync(root, { recursive: true });
  const manifestPath = join(root, 'manifest.json');
  let manifest: Manifest;
  if (existsSync(manifestPath)) {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } else {
    // Ends two minutes before now on a whole minute: every segment is finished and closed.
    const endMs = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    const bytes = makeSegmentMp4(join(root, 'segment.mp4'), segmentSeconds).length;
    manifest = { endMs, fileBytes: bytes };
    writeFileSync(manifestPath, JSON.stringify(manifest));
  }
  const mp4 = readFileSync(join(root, 'segment.mp4'));
  const filesPerCamera = Math.round((opts.days * 86_400) / segmentSeconds);
  const startMs = manifest.endMs - filesPerCamera * segmentSeconds * 1000;
  const t0 = performance.now();
  for (let c = 0; c < opts.cameras; c++) {
    const cam = join(root, 'cameras', scaleCameraId(c));
    if (existsSync(cam)) continue;
    const tmp = `${cam}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const made = new Set<string>();
    for (let i = 0; i < filesPerCamera; i++) {
      const segStart = startMs + i * segmentSeconds * 1000;
      const rel = segmentRelPath(segStart, layout);
      const file = join(tmp, rel);
      const dir = file.slice(0, file.lastIndexOf('/'));
      if (!made.has(dir)) {
        mkdirSync(dir, { recursive: true });
        made.add(dir);
      }
      writeFileSync(file, mp4); // a copy, not a link: every file needs its own mtime
      const end = new Date(segStart + segmentSeconds * 1000);
      utimesSync(file, end, end);
    }
    renameSync(tmp, cam);
  }
  return {
    root: join(root, 'cameras'),
    layout,
    days: opts.days,
    segmentSeconds,
    endMs: manifest.endMs,
    startMs,
    filesPerCamera,
    fileBytes: manifest.fileBytes,
    generatedS: Math.round((performance.now() - t0) / 100) / 10,
  };
}

/** Hard-link camera `i`'s cached files into `recordingsDir/<camera id>` (mtimes are the cache's;
 * a rename or unlink by the kernel leaves the cache whole). */
export async function linkScaleCamera(
  fixture: ScaleFixture,
  i: number,
  recordingsDir: string,
): Promise<void> {
  const cam = scaleCameraId(i);
  mkdirSync(join(recordingsDir, cam), { recursive: true });
  await promisify(execFile)('cp', ['-al', `${join(fixture.root, cam)}/.`, join(recordingsDir, cam)]);
}
