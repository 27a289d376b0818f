import { open, type FileHandle } from 'node:fs/promises';
import type { ProbedFile } from './ffmpeg-args';
import { boxHeader, children, find, MAX_META_BOX, readAt, type Box } from './mp4-boxes';

/**
 * In-process MP4 probe for the indexer: duration, codec, size and frame rate read from the box
 * structure (moov/trak/mdhd/tkhd/stsd, and moof/traf/trun of fragmented files) with a few small
 * reads, skipping the media data. Spawning ffprobe for every segment cost ~15× the recording itself
 * (bench `recorder`); ffprobe stays the fallback when this returns null.
 */

const CODECS: Record<string, string> = {
  avc1: 'h264',
  avc3: 'h264',
  hev1: 'hevc',
  hvc1: 'hevc',
  mp4a: 'aac',
};
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'mvex', 'moof', 'traf', 'edts']);
/** A file up to this size is read in one go and parsed in memory (one read, not two per fragment:
 * the backlog indexer probes thousands of segments a second). */
const WHOLE_FILE_MAX = 8 * 1024 * 1024;

interface Track {
  id: number;
  handler: string;
  timescale: number;
  mdhdDuration: number;
  codec: string | null;
  width: number | null;
  height: number | null;
  sampleCount: number;
  fragmentDuration: number;
  defaultSampleDuration: number;
}

function parseTrak(buf: Buffer, trak: Box): Track | null {
  const tkhd = find(buf, trak, 'tkhd');
  const mdhd = find(buf, trak, 'mdia', 'mdhd');
  const hdlr = find(buf, trak, 'mdia', 'hdlr');
  if (!tkhd || !mdhd || !hdlr) return null;
  const tv = buf[tkhd.start];
  const id = buf.readUInt32BE(tkhd.start + (tv === 1 ? 20 : 12));
  const width = buf.readUInt32BE(tkhd.end - 8) / 65536;
  const height = buf.readUInt32BE(tkhd.end - 4) / 65536;
  const mv = buf[mdhd.start];
  const timescale = buf.readUInt32BE(mdhd.start + (mv === 1 ? 20 : 12));
  const mdhdDuration =
    mv === 1 ? Number(buf.readBigUInt64BE(mdhd.start + 24)) : buf.readUInt32BE(mdhd.start + 16);
  const handler = buf.toString('latin1', hdlr.start + 8, hdlr.start + 12);
  const stsd = find(buf, trak, 'mdia', 'minf', 'stbl', 'stsd');
  const entry = stsd ? children(buf, stsd.start + 8, stsd.end)[0] : undefined;
  let sampleCount = 0;
  const stts = find(buf, trak, 'mdia', 'minf', 'stbl', 'stts');
  if (stts) {
    const n = buf.readUInt32BE(stts.start + 4);
    for (let i = 0; i < n && stts.start + 16 + i * 8 <= stts.end; i++)
      sampleCount += buf.readUInt32BE(stts.start + 8 + i * 8);
  }
  if (!timescale) return null;
  return {
    id,
    handler,
    timescale,
    mdhdDuration: mdhdDuration === 0xffffffff ? 0 : mdhdDuration,
    codec: entry ? (CODECS[entry.type] ?? entry.type) : null,
    width: width > 0 ? Math.round(width) : null,
    height: height > 0 ? Math.round(height) : null,
    sampleCount,
    fragmentDuration: 0,
    defaultSampleDuration: 0,
  };
}

function applyFragment(buf: Buffer, moof: Box, tracks: Map<number, Track>): void {
  for (const traf of children(buf, moof.start, moof.end).filter((b) => b.type === 'traf')) {
    const tfhd = find(buf, traf, 'tfhd');
    if (!tfhd) continue;
    const flags = buf.readUInt32BE(tfhd.start) & 0xffffff;
    const track = tracks.get(buf.readUInt32BE(tfhd.start + 4));
    if (!track) continue;
    let p = tfhd.start + 8;
    if (flags & 0x01) p += 8;
    if (flags & 0x02) p += 4;
    const defaultDuration = flags & 0x08 ? buf.readUInt32BE(p) : track.defaultSampleDuration;
    for (const trun of children(buf, traf.start, traf.end).filter((b) => b.type === 'trun')) {
      const tf = buf.readUInt32BE(trun.start) & 0xffffff;
      const count = buf.readUInt32BE(trun.start + 4);
      let q = trun.start + 8 + (tf & 0x01 ? 4 : 0) + (tf & 0x04 ? 4 : 0);
      const stride = [0x100, 0x200, 0x400, 0x800].filter((f) => tf & f).length * 4;
      track.sampleCount += count;
      if (!(tf & 0x100)) {
        track.fragmentDuration += count * defaultDuration;
        continue;
      }
      for (let i = 0; i < count && q + 4 <= trun.end; i++, q += stride)
        track.fragmentDuration += buf.readUInt32BE(q);
    }
  }
}

/** Duration, codec, size and fps of an MP4 (fragmented or not); null when it cannot be parsed.
 * `knownSize`: the size the caller has just stat'ed (a closed file), which saves an fstat. */
export async function probeMp4(path: string, knownSize?: number): Promise<ProbedFile | null> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const size = knownSize ?? (await fh.stat()).size;
    const whole = size <= WHOLE_FILE_MAX ? await readAt(fh, 0, size) : null;
    const file = fh;
    const read = (at: number, len: number): Promise<Buffer> | Buffer =>
      whole ? whole.subarray(at, Math.min(at + len, whole.length)) : readAt(file, at, len);
    const tracks = new Map<number, Track>();
    let pos = 0;
    while (pos + 8 <= size) {
      const head = await read(pos, 16);
      const h = boxHeader(head, 0, head.length, size - pos);
      if (!h) break;
      const { type, size: boxSize, header } = h;
      if (boxSize < header) return null;
      if (type === 'moov' || type === 'moof') {
        if (boxSize > MAX_META_BOX) return null;
        const buf = await read(pos, Math.min(boxSize, size - pos));
        const root: Box = { type, start: header, end: buf.length };
        if (type === 'moov') {
          for (const trak of children(buf, root.start, root.end).filter((b) => b.type === 'trak')) {
            const t = parseTrak(buf, trak);
            if (t) tracks.set(t.id, t);
          }
          const mvex = find(buf, root, 'mvex');
          for (const trex of mvex
            ? children(buf, mvex.start, mvex.end).filter((b) => b.type === 'trex')
            : []) {
            const t = tracks.get(buf.readUInt32BE(trex.start + 4));
            if (t) t.defaultSampleDuration = buf.readUInt32BE(trex.start + 12);
          }
        } else {
          applyFragment(buf, root, tracks);
        }
      } else if (!CONTAINERS.has(type) && !/^[\x20-\x7e]{4}$/.test(type)) {
        return null; // not an MP4 box stream
      }
      pos += boxSize;
    }
    const seconds = (t: Track) => (t.fragmentDuration || t.mdhdDuration) / t.timescale;
    const all = [...tracks.values()];
    const video = all.find((t) => t.handler === 'vide');
    const duration = Math.max(0, ...all.map(seconds));
    if (!video || !(duration > 0.05)) return null;
    const vs = seconds(video);
    return {
      durationS: Math.round(duration * 1e6) / 1e6,
      codec: video.codec,
      width: video.width,
      height: video.height,
      fps: vs > 0 && video.sampleCount > 0 ? Math.round((video.sampleCount / vs) * 100) / 100 : null,
    };
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}
