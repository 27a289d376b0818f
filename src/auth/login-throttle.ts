import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a login attempt is counted under: an IPv4 address as is (an IPv4-mapped IPv6 address
 * `::ffff:1.2.3.4`, as Node reports IPv4 clients on a dual-stack socket, is that IPv4), an IPv6
 * address by its /64 prefix (one subscriber holds a whole /64, so counting single addresses would
 * give an attacker 2^64 fresh limits). Anything unparseable is its own key.
 */
export function loginThrottleKey(ip: string): string {
  const addr = ip.trim().toLowerCase().replace(/%.*$/, ''); // zone id
  if (isIPv4(addr)) return addr;
  if (!isIPv6(addr)) return addr;
  const groups = expandIpv6(addr);
  if (!groups) return addr;
  // ::ffff:a.b.c.d (mapped) → the IPv4 address
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (with `::` and an IPv4 tail expanded). */
function expandIpv6(addr: string): number[] | null {
  let text = addr;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const o = tail[1].split('.').map(Number);
    text = `${text.slice(0, -tail[1].length)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest === undefined ? 0 : 8 - h.length - r.length;
  const parts = [...h, ...Array<string>(Math.max(0, fill)).fill('0'), ...r];
  if (parts.length !== 8) return null;
  const groups = parts.map((p) => parseInt(p, 16));
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * Fixed one-minute windows of attempts per key, bounded in memory: the map is kept in window
 * order (a key opening a new window moves to the end), so expired windows are dropped from the
 * front and, when still over `maxKeys`, the oldest windows go first — one key at a time, never
 * everyone's limit at once.
 */
export class AttemptWindows {
  private readonly windows = new Map<string, { windowStart: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 10_000,
  ) {}

  get size(): number {
    return this.windows.size;
  }

  /** Count an attempt; null when allowed, else the seconds until the key's window ends. */
  hit(key: string, nowMs: number): number | null {
    const w = this.windows.get(key);
    if (w && nowMs - w.windowStart < this.windowMs) {
      w.count++;
      return w.count > this.limit ? (w.windowStart + this.windowMs - nowMs) / 1000 : null;
    }
    this.windows.delete(key);
    this.windows.set(key, { windowStart: nowMs, count: 1 });
    this.evict(nowMs);
    return 1 > this.limit ? this.windowMs / 1000 : null;
  }

  private evict(nowMs: number): void {
    for (const [k, w] of this.windows) {
      const expired = nowMs - w.windowStart >= this.windowMs;
      if (!expired && this.windows.size <= this.maxKeys) break;
      this.windows.delete(k);
    }
  }
}
