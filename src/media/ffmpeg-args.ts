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
