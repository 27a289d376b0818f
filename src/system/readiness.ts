/**
 * `/readyz`'s recording figure, pure. The cameras it counts, of those that should record: the ones
 * this node records (every one on a single node; in a cluster those it holds a lease on: a node
 * records only its share) and, while it has room for more, those no node holds yet (at boot,
 * after a failover: it should be taking them). A camera another node records is that node's.
 */
export function camerasToCount(
  expected: readonly string[],
  s: { holds: (cameraId: string) => boolean; unleased: ReadonlySet<string> },
): string[] {
  return expected.filter((id) => s.holds(id) || s.unleased.has(id));
}

/** The share of `counted` whose recorder is recording, one decimal; none counted is 100 %. */
export function recordingPercent(counted: readonly string[], recording: ReadonlySet<string>): number {
  if (counted.length === 0) return 100;
  const up = counted.filter((id) => recording.has(id)).length;
  return Math.round((up / counted.length) * 1000) / 10;
}
