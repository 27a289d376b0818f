import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { promises as dns } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';

/**
 * Outbound HTTP for webhooks and sidecars. Loopback and LAN targets are legitimate (sidecars run
 * next to the kernel), but link-local addresses — where cloud metadata services live — are
 * refused, after DNS resolution and again at connect time (a name may be re-pointed).
 * Redirects are never followed.
 */
const BLOCKED_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data']);

/** Why this address may not be called, or null. */
export function blockedAddress(ip: string): string | null {
  let v4 = isIP(ip) === 4 ? ip : null;
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) v4 = mapped[1];
  if (v4) {
    const [a, b] = v4.split('.').map(Number);
    if (a === 169 && b === 254) return 'a link-local address (cloud metadata lives there)';
    if (a === 0) return 'an unspecified address';
    if (a >= 224) return 'a multicast or reserved address';
    if (v4 === '100.100.100.200') return 'a cloud metadata address';
    return null;
  }
  if (isIP(ip) === 6) {
    if (/^fe[89ab][0-9a-f]:/.test(lower)) return 'a link-local address';
    if (lower === '::') return 'an unspecified address';
    if (lower.startsWith('ff')) return 'a multicast address';
    if (lower === 'fd00:ec2::254') return 'a cloud metadata address';
  }
  return null;
}

/** Parse and vet a target URL: http(s), a host, no blocked name or resolved address. */
export async function vetUrl(raw: string): Promise<{ ok: true; url: URL } | { ok: false; problem: string }> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: 'url is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, problem: 'url must be http or https' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) return { ok: false, problem: 'url must include a host' };
  if (BLOCKED_NAMES.has(host.toLowerCase()))
    return { ok: false, problem: `url host ${host} is a cloud metadata name` };
  let addrs: string[];
  if (isIP(host)) addrs = [host];
  else {
    try {
      addrs = (await dns.lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return { ok: false, problem: `url host ${host} does not resolve` };
    }
  }
  for (const a of addrs) {
    const why = blockedAddress(a);
    if (why) return { ok: false, problem: `url host ${host} resolves to ${why}` };
  }
  return { ok: true, url };
}

/** A DNS lookup that refuses blocked addresses at connect time. */
function guardedLookup(
  hostname: string,
  options: object,
  cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return cb(err, '', 0);
    const list = addresses;
    const bad = list.find((a) => blockedAddress(a.address));
    if (bad) {
      const e: NodeJS.ErrnoException = new Error(
        `refused: ${hostname} resolves to ${blockedAddress(bad.address)}`,
      );
      e.code = 'EBLOCKED';
      return cb(e, '', 0);
    }
    if ((options as { all?: boolean }).all) return cb(null, list);
    return cb(null, list[0].address, list[0].family);
  });
}

export interface PostResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** POST `body`; 2xx is success. Never follows redirects; the response body is read and dropped. */
export function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  agent?: http.Agent,
): Promise<PostResult> {
  return send('POST', url, headers, body, timeoutMs, agent);
}

/** GET `url` (health probes); 2xx is success. */
export function get(url: string, timeoutMs: number): Promise<PostResult> {
  return send('GET', url, {}, null, timeoutMs);
}

function send(
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string>,
  body: string | null,
  timeoutMs: number,
  agent?: http.Agent,
): Promise<PostResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...r, durationMs: Date.now() - started });
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return done({ ok: false, statusCode: null, error: 'invalid url' });
    }
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(
      target,
      {
        method,
        headers: {
          ...headers,
          ...(body === null ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          'user-agent': 'Heldar/1',
        },
        lookup: guardedLookup,
        timeout: timeoutMs,
        ...(agent ? { agent } : {}),
      },
      (res) => {
        const code = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => {
          if (code >= 200 && code < 300) done({ ok: true, statusCode: code, error: null });
          else if (code >= 300 && code < 400)
            done({ ok: false, statusCode: code, error: 'redirect not followed' });
          else done({ ok: false, statusCode: code, error: `HTTP ${code}` });
        });
        res.on('error', (err) => done({ ok: false, statusCode: code, error: err.message }));
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error(`timed out after ${timeoutMs} ms`));
    });
    req.on('error', (err) => done({ ok: false, statusCode: null, error: err.message }));
    req.end(body ?? undefined);
  });
}
