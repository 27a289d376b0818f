import { open, stat, type FileHandle } from 'node:fs/promises';
import { boxHeader, children, find, MAX_META_BOX, readAt, type Box } from './mp4-boxes';

/**
 * Where the parts of a fragmented MP4 lie, for HLS over the recorded files themselves: the init
 * section (`ftyp`+`moov`) and each fragment (`moof`+`mdat`, starting at a keyframe with
 * `frag_keyframe`) as byte ranges, with the fragment's duration from its video `trun`.
 */
export interface Mp4Fragment {
  offset: number;
  length: number;
  /** Seconds, from the video track's sample durations. */
  durationS: number;
}

export interface Mp4FragmentIndex {
  /** The init section is bytes [0, initLength). */
  initLength: number;
  fragments: Mp4Fragment[];
}

interface TrackInfo {
  timescale: number;
  defaultDuration: number;
}

/** The video track of a `moov` payload: id, timescale and `trex` default sample duration. */
export function videoTrackOf(moov: Buffer): { id: number; info: TrackInfo } | null {
  const root: Box = { type: 'moov', start: 0, end: moov.length };
  let video: { id: number; info: TrackInfo } | null = null;
  for (const trak of children(moov, root.start, root.end).filter((b) => b.type === 'trak')) {
    const tkhd = find(moov, trak, 'tkhd');
    const mdhd = find(moov, trak, 'mdia', 'mdhd');
    const hdlr = find(moov, trak, 'mdia', 'hdlr');
    if (!tkhd || !mdhd || !hdlr) continue;
    if (moov.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'vide') continue;
    const id = moov.readUInt32BE(tkhd.start + (moov[tkhd.start] === 1 ? 20 : 12));
    const timescale = moov.readUInt32BE(mdhd.start + (moov[mdhd.start] === 1 ? 20 : 12));
    if (!timescale) continue;
    video = { id, info: { timescale, defaultDuration: 0 } };
    break;
  }
  if (!video) return null;
  const mvex = find(moov, root, 'mvex');
  for (const trex of mvex ? children(moov, mvex.start, mvex.end).filter((b) => b.type === 'trex') : [])
    if (moov.readUInt32BE(trex.start + 4) === video.id)
      video.info.defaultDuration = moov.readUInt32BE(trex.start + 12);
  return video;
}

/** Ticks of the given track in one `moof` payload (null when the track has no run in it). */
export function moofTicks(moof: Buffer, trackId: number, defaultDuration: number): number | null {
  let ticks: number | null = null;
  for (const traf of children(moof, 0, moof.length).filter((b) => b.type === 'traf')) {
    const tfhd = find(moof, traf, 'tfhd');
    if (!tfhd || moof.readUInt32BE(tfhd.start + 4) !== trackId) continue;
    const flags = moof.readUInt32BE(tfhd.start) & 0xffffff;
    let p = tfhd.start + 8;
    if (flags & 0x01) p += 8;
    if (flags & 0x02) p += 4;
    const dflt = flags & 0x08 ? moof.readUInt32BE(p) : defaultDuration;
    for (const trun of children(moof, traf.start, traf.end).filter((b) => b.type === 'trun')) {
      const tf = moof.readUInt32BE(trun.start) & 0xffffff;
      const count = moof.readUInt32BE(trun.start + 4);
      let q = trun.start + 8 + (tf & 0x01 ? 4 : 0) + (tf & 0x04 ? 4 : 0);
      const stride = [0x100, 0x200, 0x400, 0x800].filter((f) => tf & f).length * 4;
      ticks ??= 0;
      if (!(tf & 0x100)) {
        ticks += count * dflt;
        continue;
      }
      for (let i = 0; i < count && q + 4 <= trun.end; i++, q += stride) ticks += moof.readUInt32BE(q);
    }
  }
  return ticks;
}

/**
 * The fragment index of a fragmented MP4, or null when the file is not one (no `moov` before the
 * first `moof`, no video track, no complete fragment). Reads box headers and the `moov`/`moof`
 * boxes only, never the media data. A trailing incomplete fragment (a file still being written) is
 * left out.
 */
export async function readFragmentIndex(path: string): Promise<Mp4FragmentIndex | null> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const size = (await fh.stat()).size;
    let pos = 0;
    let initLength = 0;
    let video: { id: number; info: TrackInfo } | null = null;
    const fragments: Mp4Fragment[] = [];
    let open_: { offset: number; ticks: number } | null = null;
    while (pos + 8 <= size) {
      const head = await readAt(fh, pos, 16);
      const h = boxHeader(head, 0, head.length, size - pos);
      if (!h) break;
      const { type, size: boxSize, header } = h;
      if (boxSize < header || pos + boxSize > size) break; // truncated: stop at the last whole box
      if (type === 'moov') {
        if (boxSize > MAX_META_BOX || fragments.length > 0 || open_) return null;
        video = videoTrackOf(await readAt(fh, pos + header, boxSize - header));
        if (!video) return null;
        initLength = pos + boxSize;
      } else if (type === 'moof') {
        if (!video || boxSize > MAX_META_BOX) return null;
        const ticks = moofTicks(
          await readAt(fh, pos + header, boxSize - header),
          video.id,
          video.info.defaultDuration,
        );
        open_ = { offset: pos, ticks: ticks ?? 0 };
      } else if (type === 'mdat' && open_) {
        fragments.push({
          offset: open_.offset,
          length: pos + boxSize - open_.offset,
          durationS: open_.ticks / video!.info.timescale,
        });
        open_ = null;
      } else if (!/^[\x20-\x7e]{4}$/.test(type)) return null;
      pos += boxSize;
    }
    if (!video || fragments.length === 0) return null;
    return { initLength, fragments };
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}

/** `size:mtime` of a file (one stat), null when it is gone: a file with another stamp changed. */
export async function fileStamp(path: string): Promise<string | null> {
  const st = await stat(path).catch(() => null);
  return st ? `${st.size}:${st.mtimeMs}` : null;
}

/**
 * Fragment indexes by file, keyed by (path, size, mtime) so a file that changed is read again;
 * bounded, least recently used out first.
 */
export class FragmentIndexCache {
  private readonly entries = new Map<string, { key: string; index: Mp4FragmentIndex | null }>();

  constructor(
    private readonly capacity = 4096,
    private readonly reader: (path: string) => Promise<Mp4FragmentIndex | null> = readFragmentIndex,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The (size, mtime) stamp the last `get` of `path` saw, without touching the file (null when the
   * cache does not hold it): what a caller compares a later `fileStamp` with.
   */
  stampOf(path: string): string | null {
    return this.entries.get(path)?.key ?? null;
  }

  /** Drops what is held of `path` (a temporary copy about to be removed). */
  forget(path: string): void {
    this.entries.delete(path);
  }

  async get(path: string): Promise<Mp4FragmentIndex | null> {
    const key = await fileStamp(path);
    if (key === null) return null;
    const hit = this.entries.get(path);
    if (hit && hit.key === key) {
      this.entries.delete(path);
      this.entries.set(path, hit);
      return hit.index;
    }
    const index = await this.reader(path);
    this.entries.delete(path);
    this.entries.set(path, { key, index });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return index;
  }
}
