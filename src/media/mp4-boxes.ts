import type { FileHandle } from 'node:fs/promises';

/**
 * The ISO BMFF box structure that both in-process MP4 readers walk: the probe (`mp4-probe.ts`,
 * duration and codec for the indexer) and the fragment index (`mp4-fragments.ts`, byte ranges for
 * playback). One box header reader, one child walk.
 */

export interface Box {
  type: string;
  start: number; // offset of the payload
  end: number;
}

export interface BoxHeader {
  type: string;
  /** The whole box, header included. */
  size: number;
  /** 8, or 16 for a 64-bit size. */
  header: number;
}

/** A `moov` or `moof` larger than this is not read (not a recording of ours). */
export const MAX_META_BOX = 16 * 1024 * 1024;

/**
 * The header of the box at `at` of `buf`, whose bytes end at `end`; a size of 0 (the box runs to
 * the end of its parent or file) is `sizeIfZero`. Null when the header does not fit before `end`.
 * The size is not checked against anything: each reader has its own rule for a box that overruns.
 */
export function boxHeader(buf: Buffer, at: number, end: number, sizeIfZero: number): BoxHeader | null {
  if (at + 8 > end) return null;
  let size = buf.readUInt32BE(at);
  const type = buf.toString('latin1', at + 4, at + 8);
  let header = 8;
  if (size === 1) {
    if (at + 16 > end) return null;
    size = Number(buf.readBigUInt64BE(at + 8));
    header = 16;
  } else if (size === 0) {
    size = sizeIfZero;
  }
  return { type, size, header };
}

export function children(buf: Buffer, start: number, end: number): Box[] {
  const out: Box[] = [];
  let p = start;
  for (let h = boxHeader(buf, p, end, end - p); h; h = boxHeader(buf, p, end, end - p)) {
    if (h.size < h.header || p + h.size > end) break;
    out.push({ type: h.type, start: p + h.header, end: p + h.size });
    p += h.size;
  }
  return out;
}

export function find(buf: Buffer, box: Box, ...path: string[]): Box | undefined {
  let cur: Box | undefined = box;
  for (const t of path) {
    cur = cur && children(buf, cur.start, cur.end).find((b) => b.type === t);
    if (!cur) return undefined;
  }
  return cur;
}

/** Up to `len` bytes at `pos` (fewer at the end of the file). */
export async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, pos);
  return buf.subarray(0, bytesRead);
}
