/**
 * Which addresses the kernel may call (webhooks, sidecars, camera http sources). Pure: no DNS, no
 * sockets. Loopback and LAN are legitimate (sidecars and cameras live there); link-local (where
 * cloud metadata services answer), unspecified, multicast and known metadata addresses are not —
 * in every spelling: IPv4 written in decimal, octal, hex or as one integer, and IPv6 forms that
 * carry an IPv4 inside (mapped, compatible, SIIT, NAT64, 6to4, Teredo).
 */

/** Host names of cloud metadata services (compared lowercase, without trailing dots). */
const METADATA_NAMES = new Set([
  'metadata.google.internal',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** IPv4 metadata endpoints outside 169.254/16: Alibaba, Azure's wire server, Oracle (legacy). */
const METADATA_V4 = new Set(['100.100.100.200', '168.63.129.16', '192.0.0.192']);

/**
 * An IPv4 address as inet_aton (and so getaddrinfo, ffmpeg and the WHATWG URL parser) reads it: one
 * to four dot-separated parts, each decimal, octal (leading 0) or hex (0x), the last filling the
 * remaining bytes (`2852039166`, `0251.0376.0251.0376`, `0xa9.0xfe.0xa9fe`); one trailing dot allowed.
 * Returns the 32-bit value, or null when `s` is not an IPv4 address.
 */
export function parseIpv4(s: string): number | null {
  const parts = (s.endsWith('.') ? s.slice(0, -1) : s).split('.');
  if (parts.length > 4) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]+$/.test(p)) n = parseInt(p, 8);
    else if (/^(0|[1-9][0-9]*)$/.test(p)) n = Number(p);
    else return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255)) return null;
  if (last >= 2 ** (8 * (4 - nums.length))) return null;
  return nums.reduce((acc, n, i) => acc + n * 2 ** (8 * (3 - i)), 0) + last;
}

/** Strict dotted decimal (the IPv4 tail of an IPv6 address): four parts 0-255. */
function parseDottedQuad(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p))) return null;
  const nums = parts.map(Number);
  if (nums.some((n) => n > 255)) return null;
  return ((nums[0] << 24) >>> 0) + (nums[1] << 16) + (nums[2] << 8) + nums[3];
}

/**
 * An IPv6 address as its eight 16-bit groups: brackets and a zone id (`%eth0`) are dropped, `::`
 * expanded, an IPv4 tail (`::ffff:1.2.3.4`) converted. Null when `s` is not an IPv6 address.
 */
export function parseIpv6(s: string): number[] | null {
  let str = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const zone = str.indexOf('%');
  if (zone >= 0) str = str.slice(0, zone);
  if (!str.includes(':')) return null;
  const halves = str.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (it.includes('.') && i === items.length - 1) {
        const v4 = parseDottedQuad(it);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-f]{1,4}$/i.test(it)) out.push(parseInt(it, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  // An IPv4 tail is only allowed at the very end of the address.
  if (halves.length === 2 && halves[0].includes('.')) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const fill = 8 - head.length - tail.length;
  if (fill < 1) return null;
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

const v4ToString = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const v4Of = (hi: number, lo: number): number => ((hi << 16) >>> 0) + lo;

/** RFC 5952 text: lowercase, no leading zeros, the longest run (2+) of zero groups as `::`. */
function v6ToString(h: number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (h[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && h[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(h) : `${hex(h.slice(0, best))}::${hex(h.slice(best + bestLen))}`;
}

/**
 * The IPv4 an IPv6 address stands for, and other IPv4 addresses it may reach: IPv4-mapped
 * (`::ffff:a.b.c.d`), SIIT (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, not `::` or `::1`),
 * NAT64 (`64:ff9b::/96`; `64:ff9b:1::/48` at /96, /48, /56 and /64, all guesses as the operator's
 * prefix length is unknown), 6to4 (`2002:AABB:CCDD::`) and Teredo (the client; the
 * server as an alternate).
 */
function embeddedIpv4(h: number[]): { primary: number | null; guess?: boolean; alternates: number[] } {
  const zero = (from: number, to: number) => h.slice(from, to).every((x) => x === 0);
  const only = (n: number) => ({ primary: n, alternates: [] });
  if (zero(0, 5) && h[5] === 0xffff) return only(v4Of(h[6], h[7]));
  if (zero(0, 4) && h[4] === 0xffff && h[5] === 0) return only(v4Of(h[6], h[7]));
  if (zero(0, 6) && !(h[6] === 0 && h[7] <= 1)) return only(v4Of(h[6], h[7]));
  if (h[0] === 0x64 && h[1] === 0xff9b && zero(2, 6)) return only(v4Of(h[6], h[7]));
  if (h[0] === 0x64 && h[1] === 0xff9b && h[2] === 1) {
    const hi = (i: number) => h[i] >>> 8;
    const lo = (i: number) => h[i] & 255;
    const quad = (a: number, b: number, c: number, d: number) => ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
    return {
      primary: v4Of(h[6], h[7]), // /96
      guess: true,
      alternates: [
        quad(hi(3), lo(3), lo(4), hi(5)), // /48 (bits 64-71 are the reserved "u" octet)
        quad(lo(3), lo(4), hi(5), lo(5)), // /56
        quad(lo(4), hi(5), lo(5), hi(6)), // /64
      ],
    };
  }
  if (h[0] === 0x2002) return only(v4Of(h[1], h[2]));
  if (h[0] === 0x2001 && h[1] === 0)
    return { primary: ~v4Of(h[6], h[7]) >>> 0, alternates: [v4Of(h[2], h[3])] };
  return { primary: null, alternates: [] };
}

/** `alternate`: an IPv4 the address may reach, not the one it surely stands for. */
type View = { v4: number; alternate: boolean } | { v6: number[] };

/** Every address `ip` stands for: the IPv4 it carries, alternates, then the IPv6 itself. */
function views(ip: string): View[] | null {
  const v4 = parseIpv4(ip);
  if (v4 !== null) return [{ v4, alternate: false }];
  const v6 = parseIpv6(ip);
  if (v6 === null) return null;
  const { primary, guess = false, alternates } = embeddedIpv4(v6);
  return [
    ...(primary === null ? [] : [{ v4: primary, alternate: guess }]),
    ...alternates.map((n) => ({ v4: n, alternate: true })),
    { v6 },
  ];
}

/**
 * The canonical form of an IP address in any spelling, or null for anything else (a host name):
 * IPv4 as dotted decimal, and an IPv6 address that carries an IPv4 (mapped, compatible, NAT64,
 * 6to4, Teredo client) as that IPv4; any other IPv6 in RFC 5952 form.
 */
export function normalizeIp(ip: string): string | null {
  const vs = views(ip.trim());
  if (!vs) return null;
  const first = vs[0];
  return 'v4' in first ? v4ToString(first.v4) : v6ToString(first.v6);
}

/** `alternate`: a guess at what the address may reach, judged for metadata only (not 0/8 etc.). */
function judgeV4(n: number, alternate: boolean): string | null {
  const a = n >>> 24;
  const b = (n >>> 16) & 255;
  if (a === 169 && b === 254) return 'a link-local address (cloud metadata lives there)';
  if (METADATA_V4.has(v4ToString(n))) return 'a cloud metadata address';
  if (alternate) return null;
  if (a === 0) return 'an unspecified address';
  if (a >= 224) return 'a multicast or reserved address';
  return null;
}

function judgeV6(h: number[]): string | null {
  if ((h[0] & 0xffc0) === 0xfe80) return 'a link-local address';
  if (h.every((x) => x === 0)) return 'an unspecified address';
  if (h[0] >>> 8 === 0xff) return 'a multicast address';
  if (v6ToString(h) === 'fd00:ec2::254') return 'a cloud metadata address';
  return null;
}

/** Why this IP address may not be called (any spelling, see `normalizeIp`), or null (also for a name). */
export function blockedAddress(ip: string): string | null {
  for (const v of views(ip.trim()) ?? []) {
    const why = 'v4' in v ? judgeV4(v.v4, v.alternate) : judgeV6(v.v6);
    if (why) return why;
  }
  return null;
}

/** Whether `host` names a cloud metadata service (case and trailing dots ignored). */
export function isMetadataName(host: string): boolean {
  return METADATA_NAMES.has(host.trim().toLowerCase().replace(/\.+$/, ''));
}

/**
 * Why a URL host (a name, or an IP literal in any spelling, brackets allowed) may not be called
 * without resolving it, or null. A name that passes still has to be resolved and judged.
 */
export function hostRefusal(host: string): string | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isMetadataName(bare)) return 'a cloud metadata name';
  return blockedAddress(bare);
}

/** Whether `host` is an IP literal (any spelling) rather than a name to resolve. */
export function isIpLiteral(host: string): boolean {
  return normalizeIp(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host) !== null;
}
