/**
 * Pure ffmpeg/ffprobe argument builders. Each spec asserts the exact array, so a change to
 * what we ask of ffmpeg is always a visible, reviewed diff.
 */

export interface ProbeOptions {
  /** Socket I/O timeout (the probe also has an overall deadline in the caller). */
  ioTimeoutMs: number;
}

/** ffprobe of a live source's first video stream, JSON out. RTSP is pulled over TCP as the recorder does. */
export function buildProbeArgs(url: string, opts: ProbeOptions): string[] {
  const us = String(Math.round(opts.ioTimeoutMs * 1000));
  const transport = /^rtsps?:\/\//i.test(url)
    ? ['-rtsp_transport', 'tcp', '-timeout', us]
    : ['-rw_timeout', us];
  return [
    '-v',
    'error',
    ...transport,
    // codec and size are in the first keyframe's parameter sets: 2 s of analysis, not the default 5
    '-analyzeduration',
    '2000000',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_name,width,height,avg_frame_rate',
    '-of',
    'json',
    url,
  ];
}

export interface ProbedStream {
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
}

/** Parse `buildProbeArgs` output; null when there is no video stream. */
export function parseProbeOutput(stdout: string): ProbedStream | null {
  let parsed: { streams?: Array<Record<string, unknown>> };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    return null;
  }
  const s = parsed.streams?.[0];
  if (!s) return null;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  let fps: number | null = null;
  if (typeof s.avg_frame_rate === 'string') {
    const [n, d] = s.avg_frame_rate.split('/').map(Number);
    if (n > 0 && d > 0) fps = Math.round((n / d) * 100) / 100;
  }
  return {
    codec: typeof s.codec_name === 'string' ? s.codec_name : null,
    width: num(s.width),
    height: num(s.height),
    fps,
  };
}

/** Input options for a live source: RTSP over TCP like the recorder pulls cameras, with a socket timeout. */
function liveInputArgs(url: string, ioTimeoutUs: number): string[] {
  return /^rtsps?:\/\//i.test(url)
    ? ['-rtsp_transport', 'tcp', '-timeout', String(ioTimeoutUs)]
    : ['-rw_timeout', String(ioTimeoutUs)];
}

/**
 * The input of a long-running ffmpeg on a live source (recorder, live HLS, AI sampler): the
 * transport and socket timeout of liveInputArgs, and 2 s of input analysis (the default 5 s can
 * outlast the RTSP packet buffer at low frame rates and drop the first seconds; 2 s finds H.264/H.265
 * parameters and keeps every packet). These run supervised: never `-nostdin`, the supervisor stops
 * ffmpeg with `q` on stdin.
 */
export function buildLiveInput(url: string, ioTimeoutUs: number): string[] {
  return [...liveInputArgs(url, ioTimeoutUs), '-analyzeduration', '2000000', '-i', url];
}

export interface RecordArgsInput {
  url: string;
  recordAudio: boolean;
  segmentSeconds: number;
}

/**
 * Socket timeout of a recorder. A source that stalls mid-stream (connected, silent) ends ffmpeg
 * after about three times this (measured: 15 s → 45 s), then the supervisor restarts it; a live
 * RTSP stream is never silent for 5 s. The health loop's stale check backs this up.
 */
export const RECORD_IO_TIMEOUT_US = 5_000_000;

/** The recorder's fragmented MP4: one fragment per keyframe, the init section (`ftyp`+`moov`) first,
 * fragment offsets relative to their `moof` (what the playback byte ranges rely on). */
export const FRAGMENTED_MP4_MOVFLAGS = '+frag_keyframe+empty_moov+default_base_moof';

/**
 * The recorder: stream copy into fragmented MP4 segments named by their UTC open time, one folder
 * per UTC day (`%Y-%m-%d/%Y%m%d_%H%M%S.mp4`, run with TZ=UTC; ffmpeg does not create the folder, the
 * recorder makes today's and tomorrow's ahead). ffmpeg writes one CSV line per segment to stdout
 * the moment it closes it (`name,start,end`): the indexer learns of new footage from that, not by
 * polling the directory. No `-nostdin`: the supervisor stops ffmpeg with `q` on stdin so the last
 * fragment is flushed (and its line written). Fragmented MP4 keeps a segment readable while written.
 */
export function buildRecordArgs(input: RecordArgsInput, outDir: string): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'warning',
    ...buildLiveInput(input.url, RECORD_IO_TIMEOUT_US),
    '-map',
    '0:v:0',
    ...(input.recordAudio ? ['-map', '0:a:0?', '-c:a', 'copy'] : []),
    '-c:v',
    'copy',
    '-f',
    'segment',
    '-segment_time',
    String(Math.max(2, Math.round(input.segmentSeconds))),
    '-segment_format',
    'mp4',
    '-segment_format_options',
    `movflags=${FRAGMENTED_MP4_MOVFLAGS}`,
    '-reset_timestamps',
    '1',
    '-segment_list',
    'pipe:1',
    '-segment_list_type',
    'csv',
    '-segment_list_flags',
    '+live',
    '-strftime',
    '1',
    `${outDir}/%Y-%m-%d/%Y%m%d_%H%M%S.mp4`,
  ];
}

/**
 * Playback's fallback for a recorded file that is not fragmented MP4 (an older recorder, an
 * imported file): stream copy (no re-encode) of its video and first audio track into a fragmented
 * MP4 with the recorder's own flags, so it is served as byte ranges exactly like a native file.
 */
export function buildRemuxArgs(src: string, outPath: string): string[] {
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-i', src,
    '-map', '0:v:0', '-map', '0:a:0?', '-c', 'copy',
    '-movflags', FRAGMENTED_MP4_MOVFLAGS, '-f', 'mp4', '-y', outPath,
  ]; // prettier-ignore
}

/** ffprobe of a recorded file: container duration and the video stream's codec, size and rate. */
export function buildFileProbeArgs(path: string): string[] {
  return [
    '-v',
    'error',
    '-show_entries',
    'format=duration:stream=codec_type,codec_name,width,height,avg_frame_rate',
    '-of',
    'json',
    path,
  ];
}

export interface ProbedFile {
  durationS: number;
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
}

/** Parse `buildFileProbeArgs` output; null when there is no usable duration. */
export function parseFileProbe(stdout: string): ProbedFile | null {
  let parsed: { format?: { duration?: unknown }; streams?: Array<Record<string, unknown>> };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    return null;
  }
  const duration = Number(parsed.format?.duration);
  if (!Number.isFinite(duration) || duration <= 0.05) return null;
  const video = parsed.streams?.find((s) => s.codec_type === 'video');
  const stream = video ? parseProbeOutput(JSON.stringify({ streams: [video] })) : null;
  return {
    durationS: duration,
    codec: stream?.codec ?? null,
    width: stream?.width ?? null,
    height: stream?.height ?? null,
    fps: stream?.fps ?? null,
  };
}

/** An ffmpeg concat-demuxer list; single quotes in paths are escaped as `'\''`. */
export function buildConcatList(paths: string[]): string {
  return paths.map((p) => `file '${p.replace(/'/g, `'\\''`)}'`).join('\n') + '\n';
}

/** A clip by stream copy from a concat list: keyframe-aligned, timestamps from zero, `+faststart`. */
export function buildClipArgs(
  listPath: string,
  offsetS: number,
  durationS: number,
  outPath: string,
): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    listPath,
    '-ss',
    Math.max(0, offsetS).toFixed(3),
    '-t',
    durationS.toFixed(3),
    '-c',
    'copy',
    '-avoid_negative_ts',
    'make_zero',
    '-movflags',
    '+faststart',
    '-y',
    outPath,
  ];
}

/** One JPEG frame `offsetS` into a recorded file. */
export function buildSnapshotAtArgs(file: string, offsetS: number, outPath: string): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-ss', Math.max(0, offsetS).toFixed(3), '-i', file,
    '-frames:v', '1', '-q:v', '3', '-f', 'image2', '-c:v', 'mjpeg', '-y', outPath,
  ]; // prettier-ignore
}

/** One JPEG frame from a live source (RTSP over TCP). */
export function buildLiveSnapshotArgs(url: string, outPath: string): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', ...liveInputArgs(url, 10_000_000), '-i', url,
    '-frames:v', '1', '-q:v', '3', '-f', 'image2', '-c:v', 'mjpeg', '-y', outPath,
  ]; // prettier-ignore
}

/** Socket timeout of an AI sampler (it decodes, so it is given longer than a recorder). */
export const SAMPLER_IO_TIMEOUT_US = 15_000_000;

/**
 * AI frame sampler: decode at `fps`, scale to `width`, and keep overwriting one JPEG atomically
 * (readers never see a half-written frame). Its input is built like the recorder's (RTSP over TCP,
 * rw_timeout for HTTP); no `-nostdin`: the supervisor stops it with `q`.
 */
export function buildSamplerArgs(url: string, fps: number, width: number, outFile: string): string[] {
  return [
    '-hide_banner', '-loglevel', 'warning', ...buildLiveInput(url, SAMPLER_IO_TIMEOUT_US),
    '-an', '-vf', `fps=${fps},scale=${width}:-2`, '-q:v', '5',
    '-f', 'image2', '-update', '1', '-atomic_writing', '1', '-y', outFile,
  ]; // prettier-ignore
}

/** Seconds per built-in live HLS segment (stream copy cuts at the next keyframe after this). */
export const LIVE_HLS_SEGMENT_S = 1;
/** Segments kept in the rolling live playlist (older ones are deleted by ffmpeg). */
export const LIVE_HLS_LIST_SIZE = 6;

/**
 * The built-in live publisher: stream copy of a camera into a short rolling HLS playlist
 * (`index.m3u8` + `seg_<n>.ts`), written atomically (`temp_file`), old segments deleted. No
 * `-nostdin`: the supervisor stops it with `q`. No re-encode, so it costs what a recorder costs.
 */
export function buildLiveHlsArgs(url: string, outDir: string): string[] {
  return [
    '-hide_banner', '-loglevel', 'warning', ...buildLiveInput(url, 10_000_000),
    '-map', '0:v:0', '-an', '-c:v', 'copy',
    '-f', 'hls', '-hls_time', String(LIVE_HLS_SEGMENT_S), '-hls_list_size', String(LIVE_HLS_LIST_SIZE),
    '-hls_flags', 'delete_segments+temp_file+independent_segments+omit_endlist',
    '-hls_allow_cache', '0',
    '-hls_segment_filename', `${outDir}/seg_%06d.ts`,
    `${outDir}/index.m3u8`,
  ]; // prettier-ignore
}
