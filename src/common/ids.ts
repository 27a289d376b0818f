import { randomFillSync } from 'node:crypto';

/**
 * Time-ordered ids. High-volume tables (events, detections, outbox, segments) key on these or on
 * integers: random UUIDv4 keys cost ~5x on insert (B-tree page churn, ENVIRONMENT.md).
 */

let lastMs = 0;
let seq = 0;

/** Random bytes drawn from a pool refilled 4 KiB at a time: one syscall per ~250 ids, not per id. */
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;
function random(into: Buffer, n: number): void {
  if (poolAt + n > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  POOL.copy(into, 0, poolAt, poolAt + n);
  poolAt += n;
}
const two = Buffer.alloc(2);

/** RFC 9562 UUIDv7 bytes: 48-bit ms timestamp, version 7, 12-bit counter (monotonic within a ms), variant, random. */
function uuidv7Bytes(nowMs: number = Date.now()): Buffer {
  if (nowMs <= lastMs) {
    seq = (seq + 1) & 0xfff;
    if (seq === 0) lastMs += 1; // counter overflow: borrow the next millisecond
    nowMs = lastMs;
  } else {
    lastMs = nowMs;
    random(two, 2);
    seq = two.readUInt16BE(0) & 0x7ff; // random start, leaves headroom for increments
  }
  const b = Buffer.allocUnsafe(16);
  random(b, 16);
  b.writeUIntBE(nowMs, 0, 6);
  b[6] = 0x70 | ((seq >> 8) & 0x0f);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (b[8] & 0x3f);
  return b;
}

/** Hyphenated UUIDv7 string. */
export function uuidv7(): string {
  const h = uuidv7Bytes().toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `<prefix><32 hex>` — the reference's `seg_`, `det_`, `usr_` … ids, time-ordered. */
export function prefixedId(prefix: string): string {
  return `${prefix}${uuidv7Bytes().toString('hex')}`;
}

/** Camera/site id slug: lowercase alnum, other runs → `_`, trimmed; empty → fallback. */
export function slugify(input: string, fallback = 'camera'): string {
  const s = input
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return s.length > 0 ? s.slice(0, 64).replace(/_+$/g, '') : fallback;
}
