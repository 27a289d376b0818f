/** Pure arithmetic of the clip quotas: the size estimate of a clip and whether it fits. */

export interface SegmentSpan {
  startMs: number;
  endMs: number;
  sizeBytes: number;
}

/**
 * Bytes a stream-copy clip of [fromMs, toMs) will take, from the segments it reads: each segment
 * contributes its size × the share of its span inside the range (a segment with no duration
 * counts whole). Stream copy cuts on keyframes, so the file is a little larger: check again after.
 */
export function estimateClipBytes(segs: readonly SegmentSpan[], fromMs: number, toMs: number): number {
  let total = 0;
  for (const s of segs) {
    const span = s.endMs - s.startMs;
    if (!(span > 0)) {
      total += Math.max(0, s.sizeBytes);
      continue;
    }
    const inside = Math.max(0, Math.min(s.endMs, toMs) - Math.max(s.startMs, fromMs));
    total += (Math.max(0, s.sizeBytes) * inside) / span;
  }
  return Math.ceil(total);
}

export interface ClipQuotaInput {
  /** Bytes of the clip to add (estimate before, actual size after the export). */
  requestedBytes: number;
  usedTotalBytes: number;
  usedByPrincipalBytes: number;
  /** 0 = no limit. */
  maxTotalBytes: number;
  maxPerPrincipalBytes: number;
}

export interface ClipQuotaBreach {
  scope: 'principal' | 'total';
  usedBytes: number;
  allowedBytes: number;
  requestedBytes: number;
}

/** The first quota the clip would exceed (the caller's own, then the total), or null. */
export function clipQuotaBreach(i: ClipQuotaInput): ClipQuotaBreach | null {
  const req = Math.max(0, i.requestedBytes);
  if (i.maxPerPrincipalBytes > 0 && i.usedByPrincipalBytes + req > i.maxPerPrincipalBytes) {
    return {
      scope: 'principal',
      usedBytes: i.usedByPrincipalBytes,
      allowedBytes: i.maxPerPrincipalBytes,
      requestedBytes: req,
    };
  }
  if (i.maxTotalBytes > 0 && i.usedTotalBytes + req > i.maxTotalBytes) {
    return {
      scope: 'total',
      usedBytes: i.usedTotalBytes,
      allowedBytes: i.maxTotalBytes,
      requestedBytes: req,
    };
  }
  return null;
}

/** 1536 → "1.5 KiB"; whole bytes below 1 KiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Math.max(0, n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${Math.round(v * 10) / 10} ${units[u]}`;
}

/** The message of a refused clip: how much is used and allowed, and what to do. */
export function clipQuotaMessage(b: ClipQuotaBreach): string {
  const whose = b.scope === 'principal' ? 'your clips use' : 'all clips use';
  return (
    `clip quota exceeded: ${whose} ${formatBytes(b.usedBytes)} of ${formatBytes(b.allowedBytes)} allowed, ` +
    `and this clip needs about ${formatBytes(b.requestedBytes)}; delete clips or wait for them to expire`
  );
}
